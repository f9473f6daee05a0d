"""What of a config enters its run id, read from the declarations (repro/schema/declare.py's module docstring:
`identity=False`, `neutral=`, `identity_select=`, a node's `identity_excludes`). repro/runs/rundir.py hashes what
`identity_config(Run, config)` returns; the declarations live with the keys (repro/conf/schema.py, the noise models,
the methods), so a key added to a node says there, once, whether it changes which run a config is.

The walk keeps what no declaration names (a key an old config has and the schema no longer does, a node whose kind
no model declares) as it is: the id of a config is what it was when its keys were hashed whole.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from repro.errors import UserError
from repro.schema.declare import Field, fields_of

__all__ = ["Slot", "identity_config", "same_value"]


class Slot:
    """The schema of a node declared in a layer above the schema that holds it: the run's `method`, whose options
    each method declares (repro/methods/, above repro/conf/ and repro/runs/). The layer that declares them fills the
    slot when it is imported (`fill`); a run id asked for before that fails loudly rather than hash the node
    without its declarations, which would silently give the config another id."""

    def __init__(self, what: str, filled_by: str) -> None:
        self.what, self.filled_by = what, filled_by
        self._select: Callable[[Mapping[str, Any], str], type] | None = None

    def fill(self, select: Callable[[Mapping[str, Any], str], type]) -> None:
        self._select = select

    def __call__(self, node: Mapping[str, Any], key: str) -> type:
        if self._select is None:
            raise RuntimeError(
                f"the run id reads {self.what}'s declarations, which {self.filled_by} fills in when it is imported; "
                f"import {self.filled_by} before asking for a run id (repro.config does)"
            )
        return self._select(node, key)


def identity_config(cls: type, config: Mapping[str, Any]) -> dict:
    """The part of `config` (a node of schema `cls`, the whole config for the run's schema) that enters its run id:
    keys declared `identity=False` left out, keys at their `neutral` value left out, and the keys a node's
    `identity_excludes` names."""
    excluded: list[str] = []
    out = _walk(cls, config, "", excluded)
    for key in excluded:
        out = _without(out, str(key).split("."))
    return out


def same_value(value: Any, neutral: Any) -> bool:
    """`deterministic=false` and `deterministic: "false"` (a string from a hand-written config) are both neutral."""
    if isinstance(value, str):
        return value.strip().lower() == str(neutral).lower()
    return bool(value == neutral)


def _walk(cls: type, node: Mapping[str, Any], where: str, excluded: list[str]) -> dict:
    fields = {f.name: f for f in fields_of(cls)}
    excludes = getattr(cls, "identity_excludes", None)
    if excludes is not None:
        excluded.extend(excludes(node))
    out: dict[str, Any] = {}
    for key, value in node.items():
        f = fields.get(key)
        if f is None:
            out[key] = value
            continue
        if not f.identity:
            continue
        value = _child(f, value, f"{where}.{key}" if where else key, excluded)
        if f.has_neutral and same_value(value, f.neutral):
            continue
        out[key] = value
    return out


def _child(f: Field, value: Any, key: str, excluded: list[str]) -> Any:
    """A nested node's identity (its own declarations), or the value as it is."""
    if f.nodes is not None and isinstance(value, list):
        return [_walk(f.nodes, item, key, excluded) if isinstance(item, Mapping) else item for item in value]
    if not isinstance(value, Mapping):
        return value
    cls = f.node
    select = f.identity_select or f.select
    if cls is None and select is not None:
        try:
            cls = select(value, key)
        except UserError:  # a kind no model declares: the node is hashed whole
            return value
    return value if cls is None else _walk(cls, value, key, excluded)


def _without(tree: Mapping[str, Any], parts: list[str]) -> dict:
    """A copy of `tree` without the dotted key (copying only the dicts on its path)."""
    out = dict(tree)
    if len(parts) == 1:
        out.pop(parts[0], None)
    elif isinstance(out.get(parts[0]), Mapping):
        out[parts[0]] = _without(out[parts[0]], parts[1:])
    return out
