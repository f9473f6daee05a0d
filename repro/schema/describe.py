"""Every key of a declaration (repro/schema/declare.py), what it allows and why: what `repro train --help` and
docs/options.md list (repro/commands/options_doc.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from repro.schema.declare import fields_of

__all__ = ["OptionDoc", "describe"]


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
        key = f"{prefix}.{f.name}" if prefix else f.name
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
