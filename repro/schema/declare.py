"""Typed declarations of config nodes: one frozen dataclass per node (a config group, a method's options, a noise
model's keys) is the one place that says its keys, their types, ranges, allowed values, the defaults of keys a node
may leave out, and the rules that tie keys together.

    @schema
    class Split:
        \"\"\"The train / meta split (repro/data/splits.py).\"\"\"

        meta_fraction: float = option(gt=0, lt=1, why="share of each class held out as the meta set")
        folds: int = option(ge=1)
        fold: int = option(ge=0)

        def check(self) -> None:  # the rules that tie keys together; raise UserError
            ...

A field's rule comes from its annotation (repro/schema/rules.py): `int` / `float` with `ge`, `gt`, `le`, `lt`;
`bool`; `str` (non-empty, or one of `choices`); `Literal[...]`; `X | None` (null allowed); `Literal["auto"] | float`
(the word or the number); `list[X]` (every element X's rule); a @schema class (a nested node); `rule=` where no
annotation says it (`SnapshotEpochs()`). `select=` picks a node's schema by the node itself (a noise model by
`noise.kind`). `hint` is appended to that key's error, `why` shown in `repro train --help` and docs/options.md.

`check_node(cls, node, where)` refuses, with one paragraph (repro.errors.UserError): a key the node may not have, a
key it must have, a value its rule forbids (the error every config value gives: key, value, type, what is allowed),
then whatever `cls.check` refuses. `build(cls, node)` makes the typed object without checking (the node was checked
when the config was loaded); keys the node leaves out take the declared defaults.

Why not Hydra's structured configs (dataclasses in Hydra's ConfigStore) doing the checks: OmegaConf converts on
assignment (an int 1 in a float field becomes 1.0, which changes run ids; "yes" in a bool field becomes true; "3"
becomes 3), so a value would no longer be the text the user typed, and the sweep planner applies most overrides to
plain dicts without OmegaConf at all. docs/architecture.md, "Config schema", has the measurements.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Any, Callable, Iterator, Literal, Mapping, Union, get_args, get_origin

from repro.errors import UserError
from repro.schema.rules import Anything, Bool, Choice, Int, ListOf, OrWord, Real, Text

__all__ = ["Field", "OptionDoc", "build", "check_node", "describe", "fields_of", "is_schema", "option", "schema"]

_META = "repro.schema"


@dataclass(frozen=True)
class _Meta:
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[Any, ...] | Callable[[], Any] | None = None
    rule: Any = None
    select: Callable[[Mapping[str, Any], str], type] | None = None
    hint: str = ""
    why: str = ""


def option(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | Any = MISSING,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[Any, ...] | Callable[[], Any] | None = None,
    rule: Any = None,
    select: Callable[[Mapping[str, Any], str], type] | None = None,
    hint: str = "",
    why: str = "",
) -> Any:
    """One key of a @schema node (see the module docstring). `default`: what the key means when a node leaves it
    out (no default: every node must have it)."""
    meta = {_META: _Meta(ge, gt, le, lt, choices, rule, select, hint, why)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def schema(cls: type) -> type:
    """A typed config node: a frozen, keyword-only dataclass whose fields are its keys (see `option`). Every field's
    rule is derived here, so a field whose annotation says nothing checkable fails at import, not at a user's run."""
    cls = dataclass(frozen=True, kw_only=True)(cls)
    cls.__repro_schema__ = True  # type: ignore[attr-defined]
    fields_of(cls)
    return cls


def is_schema(cls: Any) -> bool:
    return isinstance(cls, type) and getattr(cls, "__repro_schema__", False)


@dataclass(frozen=True)
class Field:
    """One key of a node: its name, rule, default (MISSING: required), nested schema or selector, hint and why."""

    name: str
    rule: Any
    default: Any  # MISSING: every node must set the key
    factory: bool  # `default` is a factory (a list)
    node: type | None  # a nested @schema node
    nodes: type | None  # a list of @schema nodes
    select: Callable[[Mapping[str, Any], str], type] | None
    hint: str
    why: str

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def default_value(self) -> Any:
        value = self.default() if self.factory else self.default
        return tuple(value) if isinstance(value, list) else value


@cache
def fields_of(cls: type) -> tuple[Field, ...]:
    """The keys of a @schema class with their rules, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta: _Meta = f.metadata.get(_META) or _Meta()
        factory = f.default_factory is not MISSING
        default: Any = f.default_factory if factory else f.default
        annotation = hints[f.name]
        node = annotation if is_schema(annotation) else None
        element = _list_element(annotation)
        nodes = element if is_schema(element) else None
        if meta.select is not None or node is not None:
            rule = None
        elif nodes is not None:
            rule = ListOf(Anything(), nullable=_is_union(annotation))
        else:
            rule = meta.rule if meta.rule is not None else _rule(annotation, meta, f"{cls.__name__}.{f.name}")
        out.append(Field(f.name, rule, default, factory, node, nodes, meta.select, meta.hint, meta.why))
    return tuple(out)


def _list_element(annotation: Any) -> Any:
    args = [a for a in get_args(annotation) if a is not type(None)] if _is_union(annotation) else [annotation]
    if len(args) == 1 and get_origin(args[0]) in (list, tuple):
        return get_args(args[0])[0]
    return None


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _rule(annotation: Any, meta: _Meta, where: str) -> Any:
    """The rule an annotation and its bounds describe."""
    nullable = False
    if _is_union(annotation):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        words = [a for a in args if get_origin(a) is Literal]
        others = [a for a in args if get_origin(a) is not Literal]
        if words and others and len(others) == 1 and len(get_args(words[0])) == 1:
            # Literal["auto"] | float: the word, or what the other type allows
            inner = _rule(others[0] | None if nullable else others[0], meta, where)
            return OrWord(get_args(words[0])[0], inner)
        if len(args) != 1:
            raise TypeError(f"{where}: the annotation {annotation} names no rule; give one with option(rule=...)")
        annotation = args[0]
    origin = get_origin(annotation)
    if annotation is Any:
        return Anything()
    if annotation is bool:
        return Bool(nullable=nullable)
    if annotation is int:
        low = meta.ge if meta.gt is None else meta.gt + 1
        high = meta.le if meta.lt is None else meta.lt - 1
        return Int(low, high, nullable=nullable)
    if annotation is float:
        low = meta.gt if meta.gt is not None else meta.ge
        high = meta.lt if meta.lt is not None else meta.le
        return Real(low, high, low_open=meta.gt is not None, high_open=meta.lt is not None, nullable=nullable)
    if annotation is str:
        if meta.choices is not None:
            return _choice(meta.choices, nullable)
        return Text(nullable=nullable)
    if origin is Literal:
        return _choice(get_args(annotation), nullable)
    if origin in (list, tuple):
        (element,) = get_args(annotation)[:1]
        return ListOf(_rule(element, dataclasses.replace(meta, rule=None), where), nullable=nullable)
    raise TypeError(f"{where}: the annotation {annotation} names no rule; give one with option(rule=...)")


def _choice(options: Any, nullable: bool) -> Choice:
    if callable(options):
        return Choice((lambda: (*options(), None)) if nullable else options)
    return Choice((*options, None) if nullable else tuple(options))


# ---------------------------------------------------------------------------------------------------- checking


def check_node(cls: type, node: Mapping[str, Any], where: str, *, skip: tuple[str, ...] = ()) -> None:
    """Refuse the first thing in `node` (the config node at dotted key `where`, "" for the root) that `cls`
    forbids: an unknown or missing key, a value its rule forbids, a rule tying keys together (`cls.check`).
    `skip`: keys checked elsewhere (the run's `method`, checked above the methods)."""
    if not isinstance(node, Mapping):
        raise UserError(
            f"{where or 'the config'} must be a mapping of keys to values, not {json.dumps(node, default=str)}. "
            f"{_FIX.format(override=where)}"
        )
    fields = fields_of(cls)
    names = {f.name for f in fields}
    unknown = [k for k in node if k not in names]
    if unknown:
        raise UserError(
            f"{_dotted(where, unknown[0])} is not a key of {where or 'the config'} here; it takes "
            f"{', '.join(sorted(names))}. Check the spelling; `repro train --cfg job` prints the keys it has. "
            "Nothing was run or written."
        )
    for f in fields:
        key = _dotted(where, f.name)
        if f.name not in node:
            if f.required and f.name not in skip:
                raise UserError(
                    f"{key} is missing: {where or 'the config'} must set it ({_allowed(f)}). Nothing was run or "
                    f"written. Add it to the config file that sets {where or 'the config'}."
                )
            continue
        if f.name in skip:
            continue
        value = node[f.name]
        if f.select is not None:
            check_node(f.select(value, key), value, key)
        elif f.node is not None:
            check_node(f.node, value, key)
        else:
            _check_value(f, key, value)
            if f.nodes is not None and isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    check_node(f.nodes, item, f"{key}[{i}]")
    check = getattr(cls, "check", None)
    if check is not None:
        build(cls, node, skip=skip).check()


def _check_value(f: Field, key: str, value: Any) -> None:
    found = _first_problem(f.rule, key, value, elements=f.nodes is None)
    if found is not None:
        key, value, problem = found
        refuse(key, value, problem + (f" ({f.hint})" if f.hint else ""))


def _first_problem(rule: Any, key: str, value: Any, *, elements: bool = True) -> tuple[str, Any, str] | None:
    """(key, value, what it must be) of the first value in `value` that `rule` refuses (a list's elements named
    `key[i]`, lists of lists `key[i][j]`), or None."""
    problem = rule.check(value)
    if problem is not None:
        return key, value, problem
    if elements and isinstance(rule, ListOf) and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _first_problem(rule.element, f"{key}[{i}]", item)
            if found is not None:
                return found
    return None


def refuse(key: str, value: Any, problem: str) -> None:
    """The error every config value gives: key, value, its type, what it must be, and how to fix it."""
    shown = json.dumps(value, default=str)
    override = key.split("[")[0]
    raise UserError(
        f"{key}={shown} ({type(value).__name__}) is not allowed: it must be {problem}. Nothing was run or written. "
        f"{_FIX.format(override=override)}"
    )


_FIX = (
    "Fix the override ({override}=...) or the sweep file that sets it; `repro train --print-config` shows the "
    "resolved config."
)


def _dotted(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _allowed(f: Field) -> str:
    if f.rule is not None:
        return f.rule.describe()
    return "a mapping of its own keys"


# ---------------------------------------------------------------------------------------------------- building


def build(cls: type, node: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> Any:
    """The typed object of a checked node: nested nodes built too, left-out keys at their defaults."""
    values: dict[str, Any] = {}
    for f in fields_of(cls):
        if f.name in skip:
            values[f.name] = node.get(f.name)
            continue
        if f.name not in node:
            values[f.name] = None if f.required else f.default_value()
            continue
        value = node[f.name]
        if f.select is not None:
            value = build(f.select(value, f.name), value)
        elif f.node is not None:
            value = build(f.node, value)
        elif f.nodes is not None and isinstance(value, (list, tuple)):
            value = tuple(build(f.nodes, item) for item in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)


# ---------------------------------------------------------------------------------------------------- describing


@dataclass(frozen=True)
class OptionDoc:
    """One key as `repro train --help` and docs/options.md show it."""

    key: str
    allowed: str
    why: str
    default: Any = None  # what the key means when a node leaves it out; `required` when it must be set
    required: bool = True


def describe(cls: type, prefix: str = "") -> Iterator[OptionDoc]:
    """Every key of `cls` (nested nodes flattened, dotted under `prefix`), with what it allows and why."""
    for f in fields_of(cls):
        key = _dotted(prefix, f.name)
        if f.node is not None:
            yield from describe(f.node, key)
            continue
        if f.select is not None:
            yield OptionDoc(key, "the keys of the option chosen (below)", f.why)
            continue
        if f.nodes is not None:
            yield OptionDoc(key, "a list of mappings: " + ", ".join(x.name for x in fields_of(f.nodes)), f.why)
            yield from describe(f.nodes, f"{key}[]")
            continue
        why = f"{f.why} ({f.hint})" if f.why and f.hint else f.why or f.hint
        yield OptionDoc(key, f.rule.describe(), why, None if f.required else f.default_value(), f.required)
