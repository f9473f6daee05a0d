"""Checking a config node against its declaration (repro/schema/declare.py), and making its typed object.

`check_node(cls, node, where)` refuses, with one paragraph (repro.errors.UserError): a key the node may not have, a
key it must have, a value its rule forbids (the error every config value gives: key, value, type, what is allowed,
how to fix it), then whatever `cls.check` refuses. `build(cls, node)` makes the typed object without checking (the
node was checked when the config was loaded); keys the node leaves out take the declared defaults.

Where the node comes from says how its errors tell the user to fix it (`source`): by default the config (an override,
a config file: `CONFIG`); a key of a sweep file (a stage's, repro/sweep/stages/) is fixed in that file
(`SweepFile(path)`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError
from repro.schema.declare import Field, fields_of
from repro.schema.rules import ListOf

__all__ = ["CONFIG", "Source", "SweepFile", "build", "check_node", "refuse"]


class Source:
    """Where a checked node comes from, as its errors say it: the config (this class: an override, a config file, a
    sweep file's overrides). Each method words one error in full, so a source words it whole, not in pieces."""

    def not_mapping(self, where: str, shown: str) -> str:
        return (
            f"{where or 'the config'} must be a mapping of keys to values, not {shown}. {_FIX.format(override=where)}"
        )

    def unknown(self, key: str, where: str, names: str, kind: str) -> str:
        return (
            f"{key} is not a key of {where or 'the config'} here; it takes {names}. Check the spelling; "
            f"`repro train --cfg job` prints the keys it has.{kind} Nothing was run or written."
        )

    def missing(self, key: str, where: str, f: Field, kind: str) -> str:
        return (
            f"{key} is missing: {where or 'the config'} must set it ({_allowed(f)}).{kind} Nothing was run "
            f"or written. Add it to the config file that sets {where or 'the config'}."
        )

    def refused(self, key: str, shown: str, type_name: str, problem: str) -> str:
        return (
            f"{key}={shown} ({type_name}) is not allowed: it must be {problem}. Nothing was run or written. "
            f"{_FIX.format(override=key.split('[')[0])}"
        )


CONFIG = Source()


@dataclass(frozen=True)
class SweepFile(Source):
    """A key of the sweep file at `path` (a stage's key, `where` its place in the file: gate, rows.<row>.tune): fixed
    in that file, which nothing but the sweep reads."""

    path: Path

    def not_mapping(self, where: str, shown: str) -> str:
        return f"{where} must be a mapping of keys to values, not {shown}, in the sweep file {self.path}. {_THERE}"

    def unknown(self, key: str, where: str, names: str, kind: str) -> str:
        return (
            f"{key} is not a key of {where} in the sweep file {self.path}; it takes {names}. Check the spelling. "
            f"{_THERE}"
        )

    def missing(self, key: str, where: str, f: Field, kind: str) -> str:
        why = f": {f.why}" if f.why else ""
        return f"{key} is missing in the sweep file {self.path}: {where} must set it ({_allowed(f)}{why}). {_THERE}"

    def refused(self, key: str, shown: str, type_name: str, problem: str) -> str:
        return (
            f"{key}={shown} ({type_name}) is not allowed in the sweep file {self.path}: it must be {problem}. {_THERE}"
        )


_THERE = "Fix the key there. Nothing was run or written."


def check_node(
    cls: type, node: Mapping[str, Any], where: str, *, skip: tuple[str, ...] = (), source: Source = CONFIG
) -> None:
    """Refuse the first thing in `node` (the config node at dotted key `where`, "" for the root) that `cls`
    forbids: an unknown or missing key, a value its rule forbids, a rule tying keys together (`cls.check`).
    `skip`: keys checked elsewhere (the run's `method`, checked above the methods). `source`: where the node comes
    from, which its errors say to fix (the config by default; a sweep file's key: `SweepFile(path)`)."""
    if not isinstance(node, Mapping):
        raise UserError(source.not_mapping(where, json.dumps(node, default=str)))
    fields = fields_of(cls)
    names = {f.name for f in fields}
    # A node whose kind picks its keys (noise, tracker): its other keys come with the group option of that kind.
    kind = (
        f" {where}'s keys follow its kind: choose the kind with the group option ({where}=<kind>), not {where}.kind."
        if "kind" in names and where
        else ""
    )
    unknown = [k for k in node if k not in names]
    if unknown:
        raise UserError(source.unknown(_dotted(where, unknown[0]), where, ", ".join(sorted(names)), kind))
    for f in fields:
        key = _dotted(where, f.name)
        if f.name not in node:
            if f.required and f.name not in skip:
                raise UserError(source.missing(key, where, f, kind))
            continue
        if f.name in skip:
            continue
        value = node[f.name]
        if f.select is not None:
            check_node(f.select(value, key), value, key, source=source)
        elif f.node is not None:
            check_node(f.node, value, key, source=source)
        else:
            _check_value(f, key, value, source)
            if f.nodes is not None and isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    check_node(f.nodes, item, f"{key}[{i}]", source=source)
    check = getattr(cls, "check", None)
    if check is not None:
        build(cls, node, skip=skip).check()


def _check_value(f: Field, key: str, value: Any, source: Source) -> None:
    found = _first_problem(f.rule, key, value, elements=f.nodes is None)
    if found is not None:
        key, value, problem = found
        refuse(key, value, problem + (f" ({f.hint})" if f.hint else ""), source)


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


def refuse(key: str, value: Any, problem: str, source: Source = CONFIG) -> None:
    """The error every config value gives: key, value, its type, what it must be, and how to fix it (`source`)."""
    raise UserError(source.refused(key, json.dumps(value, default=str), type(value).__name__, problem))


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
