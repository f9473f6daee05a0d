"""Paths as users have them: the config keys whose value is a file-system path take any path the file system takes
(non-ASCII letters, spaces, `=`, brackets, quotes), without the user learning Hydra's override grammar.

Why: Hydra's lexer refuses an unquoted `output_root=/data/józef/runs` (non-ASCII) or `data.root=/x/a=b`, and its
error says nothing about quoting. Every override of a key in `PATH_KEYS` is rewritten into Hydra's quoted form
before it is parsed (`quoted_paths`), only where the plain form would not read back as the same string; `null`
stays null (no teacher), and a comma list (`output_root=a,b`) stays Hydra's sweep, which `repro` refuses for a
path with the quoted form to use for a path that holds a comma (repro/hydra_flags.py). A new path key joins by one
line in `PATH_KEYS`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Sweep

# Config keys holding a path (a run directory counts: method.teacher / source / estimator take a run id or one).
PATH_KEYS = (
    "output_root",
    "data.root",
    "method.teacher",
    "method.source",
    "method.estimator",
)
NULL_WORDS = ("null", "~")  # Hydra's and YAML's null: "no path"


@lru_cache(maxsize=1)
def _parser():
    return OverridesParser.create()


def hydra_quoted(value: str) -> str:
    """`value` as a single-quoted Hydra override value that reads back as exactly `value`: a quote is escaped
    (\\'), and backslashes are doubled only where they precede a quote (Hydra keeps every other one literal)."""
    out, backslashes = [], 0
    for ch in value:
        if ch == "\\":
            backslashes += 1
            continue
        if ch == "'":
            out.append("\\" * (2 * backslashes) + "\\'")
        else:
            out.append("\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes))  # before the closing quote
    return "'" + "".join(out) + "'"


def reads_back(value_text: str) -> Any:
    """What Hydra's grammar makes of `value_text` as an override value; raises on a parse error."""
    (parsed,) = _parser().parse_overrides([f"k={value_text}"])
    return parsed.value()


def is_sweep(value: Any) -> bool:
    """A comma list, range() or choice(): Hydra's sweep, which keeps its meaning (refused or swept elsewhere)."""
    return isinstance(value, Sweep)


def quoted_path(override: Any) -> Any:
    """`key=value` with the value quoted for Hydra when `key` is a path key and the plain value would not read back
    as the same string; anything else unchanged (a +/~ form is for repro/hydra_flags.py to refuse)."""
    if not isinstance(override, str):
        return override
    key, sep, value = override.partition("=")
    if not sep or key not in PATH_KEYS or value in NULL_WORDS or value == "":
        return override
    try:
        plain = reads_back(value)
        if plain == value or is_sweep(plain):
            return override
    except Exception:  # noqa: BLE001 - Hydra's parse errors have several types; all mean "quote it"
        pass
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:  # already quoted by the user: keep it as written
            if isinstance(reads_back(value), str):
                return override
        except Exception:  # noqa: BLE001
            pass
    return f"{key}={hydra_quoted(value)}"


def quoted_paths(overrides: Sequence[Any]) -> list[Any]:
    """Every override of a path key in Hydra's quoted form where it needs one (see `quoted_path`)."""
    return [quoted_path(o) for o in overrides]
