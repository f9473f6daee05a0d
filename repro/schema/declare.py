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

Whether a key enters the run id (repro/runs/rundir.py) is declared on the key too, and read by
repro/schema/identity.py (`identity_config`):

- `identity=False`: never in the run id: where or how a run is shown, stored or run (`output_root`, `tracker`,
  `device`, `data.root`), not its results. A run whose key changes is the same run.
- `neutral=<value>`: in the run id unless the key has this value: a key added after runs existed, at the value those
  runs trained with (`precision="fp32"`, `optim.lr_floor=0.0`), so every id made before the key existed stays the
  same. It is not `default` (what a node that leaves the key out means): `method.probability_clip` defaults to null,
  its config files set 1e-7, and only null, the unclipped loss of older runs, is neutral.
- `identity_select=`: the schema the run id reads a node's declarations from, where the node is checked elsewhere
  (the run's `method`, whose options the methods declare above repro/conf/: an `identity.Slot` they fill).

A node may also take keys elsewhere in the config out of the run id: a staticmethod `identity_excludes(node)` on its
class returns dotted keys from the config's root (`tune`: the tuned keys, whose values the tuning runs choose).
Every other key, and any key no declaration names (an old config's), is hashed as it is.

A node is checked by repro/schema/check.py (`check_node`), made into its typed object by `build` there, and listed
key by key by repro/schema/describe.py (`describe`).

Why not Hydra's structured configs (dataclasses in Hydra's ConfigStore) doing the checks: OmegaConf converts on
assignment (an int 1 in a float field becomes 1.0, which changes run ids; "yes" in a bool field becomes true; "3"
becomes 3), so a value would no longer be the text the user typed, and the sweep planner applies most overrides to
plain dicts without OmegaConf at all. docs/design-notes.md has the measurements.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Any, Callable, Literal, Mapping, Union, get_args, get_origin

from repro.schema.rules import Anything, Bool, Choice, Int, ListOf, OrWord, Real, Text

__all__ = ["Field", "fields_of", "is_schema", "option", "schema"]

_META = "repro.schema"


class _NoNeutral:
    """The `neutral` of a key that has none (None is a neutral value: `method.probability_clip`'s)."""

    def __repr__(self) -> str:
        return "NO_NEUTRAL"


NO_NEUTRAL: Any = _NoNeutral()


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
    identity: bool = True
    neutral: Any = NO_NEUTRAL
    identity_select: Callable[[Mapping[str, Any], str], type] | None = None


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
    identity: bool = True,
    neutral: Any = NO_NEUTRAL,
    identity_select: Callable[[Mapping[str, Any], str], type] | None = None,
) -> Any:
    """One key of a @schema node (see the module docstring). `default`: what the key means when a node leaves it
    out (no default: every node must have it). `identity`, `neutral`, `identity_select`: what of it enters the run
    id."""
    if not identity and neutral is not NO_NEUTRAL:
        raise TypeError("option(identity=False) is never in the run id: it has no neutral value to leave out")
    meta = {_META: _Meta(ge, gt, le, lt, choices, rule, select, hint, why, identity, neutral, identity_select)}
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
    """One key of a node: its name, rule, default (MISSING: required), nested schema or selector, hint and why;
    whether it enters the run id, and its neutral value (NO_NEUTRAL: none; the module docstring)."""

    name: str
    rule: Any
    default: Any  # MISSING: every node must set the key
    factory: bool  # `default` is a factory (a list)
    node: type | None  # a nested @schema node
    nodes: type | None  # a list of @schema nodes
    select: Callable[[Mapping[str, Any], str], type] | None
    hint: str
    why: str
    identity: bool = True
    neutral: Any = NO_NEUTRAL
    identity_select: Callable[[Mapping[str, Any], str], type] | None = None

    @property
    def has_neutral(self) -> bool:
        return self.neutral is not NO_NEUTRAL

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
        out.append(
            Field(
                f.name,
                rule,
                default,
                factory,
                node,
                nodes,
                meta.select,
                meta.hint,
                meta.why,
                meta.identity,
                meta.neutral,
                meta.identity_select,
            )
        )
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
