"""`repro figures --where key=value ...`: the words, how a run's value matches one, and which of a sweep file's columns
a --where moves a figure to.

Takes the command line's words and the runs' values; gives {config key: value} and yes/no answers. A key is a dotted
config path as the runs' config.yaml holds it (data.name, noise.fraction, method.label_lr; sweep.stage names the
stage a sweep planned the run at); `key=*` lifts a key. A figure's own columns (the paper's: analysis/figures/
figure.py `Cells`) hold for every key a --where does not name: `--where noise.fraction=0.6` on Figure 4's CIFAR-100
at 40% moves it to CIFAR-100 at 60%, not to CIFAR-10.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from repro.errors import UserError

ANY = "*"


class SelectionError(UserError):
    """A figure's selection matches no run, or more than one cell equally well."""


class NoMatch(SelectionError):
    """A --where that matches none of a figure part's candidates."""


def parse_where(items: Sequence[str] | None) -> dict[str, str]:
    """`key=value` words -> {key: value}; a later word for the same key wins."""
    where: dict[str, str] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(
                f"--where takes config keys and values as key=value (e.g. --where data.name=cifar10 "
                f"model.name=vgg16; key=* lifts one of the paper's keys), not {item!r}."
            )
        where[key.strip()] = value.strip()
    return where


def matches(value: Any, wanted: str) -> bool:
    """Does a frame cell hold the value typed on the command line? (strings case-insensitively, numbers by value,
    true/false, null)."""
    if wanted == ANY:
        return True
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return wanted.lower() in ("null", "none")
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if str(value).lower() == wanted.lower():
        return True
    try:
        return math.isclose(float(value), float(wanted), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def check_keys(frame: pd.DataFrame, where: Mapping[str, str]) -> None:
    """Refuse --where keys that no run has (a typo would otherwise read as "matches nothing")."""
    unknown = [k for k, v in where.items() if v != ANY and k not in frame.columns]
    if unknown:
        near = sorted({c for k in unknown for c in difflib.get_close_matches(k, [str(c) for c in frame.columns], 3)})
        raise SelectionError(
            f"--where names config key(s) {', '.join(unknown)} that no run in this output root has"
            + (f" (did you mean {', '.join(near)}?)" if near else "")
            + "; keys are dotted config paths as the runs' config.yaml holds them (e.g. data.name, "
            "model.name, noise.fraction, method.label_lr)."
        )


def text(where: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in where.items())


def _frees(where: Iterable[str], key: str) -> bool:
    """Does a --where key speak for a column's override key (`data` for data.name, or the key itself)?"""
    return any(w == key or w.startswith(key + ".") or key.startswith(w + ".") for w in where)


def _column_overrides(spec: Any, column: str) -> dict[str, str]:
    """{override key: value} of a sweep file's column (`data=cifar100` -> {"data": "cifar100"}), every stage's."""
    part = spec.column_parts[column]
    found: dict[str, str] = {}
    for item in (*part.overrides, *part.learn, *part.final):
        key, _, value = str(item).partition("=")
        found[key.lstrip("+~")] = value
    return found


def columns_kept(spec: Any, own: Sequence[str], where: Mapping[str, str]) -> set[str] | None:
    """The columns of `spec` a figure may draw: those that agree with one of its `own` columns on every override key
    that no --where key speaks for; None (every column) without own columns."""
    if not own:
        return None
    kept = set()
    for column in spec.columns:
        theirs = _column_overrides(spec, column)
        for mine in map(lambda c: _column_overrides(spec, c), own):
            keys = {k for k in (*theirs, *mine) if not _frees(where, k)}
            if all(theirs.get(k) == mine.get(k) for k in keys):
                kept.add(column)
                break
    return kept
