"""A sweep's overrides, parsed with Hydra's override grammar into `Override`s (a group selection or a key assignment,
repro/sweep/protocol/cell.py: what a stage passes on), how a value is written back in that grammar, and the parts of a
row or column (`overrides`, `learn`, `final`).

Takes override strings as a sweep file, a tune grid or the command line gives them; returns `Override`s, refused
with a message naming the file and the key where they are not plain `key=value` overrides."""

from __future__ import annotations

from typing import Any, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from repro.errors import UserError
from repro.hydra_flags import config_groups as hydra_config_groups
from repro.path_keys import hydra_quoted, quoted_path
from repro.sweep.protocol.cell import Override
from repro.sweep.spec.model import Part


def config_groups() -> frozenset[str]:
    """The config groups of the packaged tree (its sub-directories): data, model, optim, method, ..., and the
    recipe presets inside optim/ (optim/schedule, ...)."""
    return _GROUPS


_GROUPS = hydra_config_groups()
_PARSER = OverridesParser.create()
_PARSED: dict[str, Override] = {}
_QUOTED: dict[str, str] = {}  # value -> its quoted form


def parse_override(text: str, *, where: str) -> Override:
    """Parse one override with Hydra's grammar; only plain `key=value` forms are allowed in a sweep."""
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    if not isinstance(text, str):
        raise UserError(
            f"{where}: the override {text!r} is not a string. Write overrides as strings such as model=resnet18 "
            "or optim.lr=0.1 (quote values that YAML would read as something else)."
        )

    given, text = text, quoted_path(text)  # paths as users have them (non-ASCII, spaces, =, brackets)
    try:
        (parsed,) = _PARSER.parse_overrides([text])
    except HydraException as exc:
        raise UserError(
            f"{where}: cannot parse the override {text!r} ({str(exc).splitlines()[0]}). Overrides look like "
            "group=option (model=resnet18) or key=value (optim.lr=0.1); quote values with spaces or brackets: "
            "key='a (b)'."
        ) from None
    if (
        parsed.is_add()
        or parsed.is_delete()
        or parsed.is_force_add()
        or parsed.package is not None
        or parsed.is_sweep_override()
        or ("/" in parsed.key_or_group and parsed.key_or_group not in _GROUPS)
    ):
        raise UserError(
            f"{where}: the override {text!r} is not a plain key=value override. A sweep file lists plain "
            "overrides only (no +, ++, ~, @package or a,b sweeps); the grid comes from its rows, columns and seeds."
        )
    key = parsed.key_or_group
    value = parsed.value()
    result = Override(text=text, key=key, value=value, is_group=key in _GROUPS)
    if result.is_group and not isinstance(value, str):
        raise UserError(f"{where}: {text!r} selects the config group {key!r}, which takes an option name.")
    _PARSED[given] = result
    return result


def quote_value(value: str) -> str:
    """`value` written so that Hydra's override grammar reads it back as exactly that string (each value parsed once
    per process: an expansion quotes the same output root, sweep name, rows and run ids thousands of times)."""
    if value in _QUOTED:
        return _QUOTED[value]
    for candidate in (value, hydra_quoted(value)):
        try:
            (parsed,) = _PARSER.parse_overrides([f"k={candidate}"])
        except HydraException:
            continue
        if parsed.value() == value and isinstance(parsed.value(), str):
            _QUOTED[value] = candidate
            return candidate
    raise UserError(f"Cannot write {value!r} as a Hydra override value; use a simpler path or name.")


def parse_all(texts: Sequence[str], where: str) -> list[Override]:
    return [parse_override(t, where=where) for t in texts]


class ParsedPart:
    def __init__(self, overrides: list[Override], learn: list[Override], final: list[Override]) -> None:
        self.overrides, self.learn, self.final = overrides, learn, final


def parse_part(part: Part, where: str) -> ParsedPart:
    return ParsedPart(
        parse_all(part.overrides, where),
        parse_all(part.learn, f"{where}.learn"),
        parse_all(part.final, f"{where}.final"),
    )


def dedupe(overrides: list[Override]) -> list[Override]:
    """One override per key, the last one's value, in the order the keys were last set (Hydra: last wins)."""
    last: dict[str, Override] = {}
    for o in overrides:
        last.pop(o.key, None)
        last[o.key] = o
    return list(last.values())


def override_value(value: Any) -> str:
    """A scalar, list or dict written in Hydra's override grammar (strings quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{override_value(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
