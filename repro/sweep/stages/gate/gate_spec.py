"""The `gate:` key of a sweep file: which cells check the table's recipe against a published number before the rest
of the table spends (repro/sweep/stages/gate/gate.py runs the check).

    gate:
      source: "the paper's Table 1"      # what the numbers are (printed with the verdict)
      hold: true                         # default; false: report only, never hold (the digits demo)
      rows:
        Baseline:                        # row -> column -> the number its mean over seeds should land near
          CIFAR100/ResNet18: {number: 77.1, std: 0.3}
          CIFAR10/ResNet18: {number: 95.0, std: 0.1, tolerance: 0.5}
        MWNet Baseline:
          CIFAR10/40%:
            number: 68.1
            std: 0.2
            cited: "Meta-Weight-Net's number under L2RW's step schedule"   # a weaker recipe than the row's:
            evidence: "re-runs with Meta-Weight-Net's own code: 88.5-88.9"   # reported, never holds

      tolerance: {std_factor: 2, effect_fraction: 0.5}   # the rule (these are the defaults)
      rows:
        Baseline:
          CIFAR10/ResNet18: {number: 95.0, std: 0.1, effect: 0.2}   # effect: the smallest effect the table claims

A holding cell's tolerance is sized for the effects its table measures: max(std_factor x the published std,
effect_fraction x `effect`), where `effect` is the smallest gap between two of the paper's numbers that the cell's
comparisons put side by side (its column; the file says which numbers). A tolerance wider than the effects would pass
a recipe that hides them (the paper's CIFAR-10 effects are 0.2-0.4 points); one narrower than the paper's own seed
spread would hold a recipe for noise. A cell may set `tolerance:` itself instead (a number, with a comment saying
why); a holding cell must give `effect` or `tolerance`. A `cited` cell (reported, never holding) and a gate with
`hold: false` keep the report's default, max(1 point, 2 x std).

The gate judges a recipe on the file's full set of seeds (`seeds:`): a selection of fewer (`--seeds 0`) is reported
as partial and releases nothing (repro/sweep/stages/gate/gate.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError

_KEYS = ("source", "hold", "rows", "tolerance")
_CELL_KEYS = ("number", "std", "tolerance", "effect", "cited", "evidence")
_RULE_KEYS = ("std_factor", "effect_fraction")
MIN_TOLERANCE = 1.0  # points: a report-only cell's floor (cited, or a gate with hold: false)
STD_FACTOR = 2.0  # the published std's multiple a tolerance is at least (the paper's own seed spread)
EFFECT_FRACTION = 0.5  # the fraction of the smallest claimed effect a tolerance is at least (rounding, our seeds)


@dataclass(frozen=True)
class GateCellSpec:
    row: str
    column: str
    number: float
    std: float | None = None
    tolerance: float | None = None  # None: the rule below
    cited: str = ""  # set: the number comes from another paper's weaker recipe; reported, never holds
    evidence: str = ""  # where a re-run of that recipe landed (the reason not to block on the number)
    effect: float | None = None  # the smallest effect the table claims in this cell's comparisons (points)
    std_factor: float = STD_FACTOR  # the gate's rule (`tolerance: {std_factor, effect_fraction}`)
    effect_fraction: float = EFFECT_FRACTION

    @property
    def allowed(self) -> float:
        if self.tolerance is not None:
            return self.tolerance
        if self.effect is not None:
            return max(self.std_factor * (self.std or 0.0), self.effect_fraction * self.effect)
        return max(MIN_TOLERANCE, self.std_factor * (self.std or 0.0))

    def rule_text(self) -> str:
        """How this cell's tolerance was sized (printed with the verdict)."""
        if self.tolerance is not None:
            return "set in the file"
        std = f"{self.std_factor:g} x std {self.std or 0.0:g}"
        if self.effect is not None:
            return f"max({std}, {self.effect_fraction:g} x the smallest claimed effect {self.effect:g})"
        return f"max({MIN_TOLERANCE:g}, {std}): report only"

    def number_text(self) -> str:
        return f"{self.number:g}" + (f" ± {self.std:g}" if self.std is not None else "")


@dataclass(frozen=True)
class GateSpec:
    cells: tuple[GateCellSpec, ...]
    source: str = ""
    hold: bool = True
    seeds: tuple[int, ...] = ()  # the file's seeds: the gate passes only on all of them

    @property
    def rows(self) -> list[str]:
        return list(dict.fromkeys(c.row for c in self.cells))

    def cell(self, row: str, column: str) -> GateCellSpec | None:
        return next((c for c in self.cells if (c.row, c.column) == (row, column)), None)


def parse_gate(
    raw: Any, path: Path, rows: list[str], columns: list[str], seeds: tuple[int, ...] = ()
) -> GateSpec | None:
    """The `gate:` mapping checked against the file's rows and columns (None: the file has no gate)."""
    if raw is None:
        return None
    example = '{source: "the paper\'s Table 1", rows: {Baseline: {CIFAR100/ResNet18: {number: 77.1, std: 0.3}}}}'
    if not isinstance(raw, Mapping) or not isinstance(raw.get("rows"), Mapping) or not raw["rows"]:
        raise UserError(f"{path}: gate must be a mapping with `rows:` (row -> column -> number), e.g. {example}.")
    unknown = [k for k in raw if k not in _KEYS]
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r} in gate; the keys allowed there are {', '.join(_KEYS)}.")
    hold = raw.get("hold", True)
    if not isinstance(hold, bool):
        raise UserError(f"{path}: gate.hold={hold!r} must be true (hold the table) or false (report only).")
    std_factor, effect_fraction = _rule(raw.get("tolerance"), path)
    cells = []
    for row, by_column in raw["rows"].items():
        if row not in rows:
            raise UserError(f"{path}: gate.rows names {row!r}, which is not a row of this sweep ({', '.join(rows)}).")
        if not isinstance(by_column, Mapping) or not by_column:
            raise UserError(f"{path}: gate.rows.{row} must map columns to their numbers, e.g. {example}.")
        for column, value in by_column.items():
            if column not in columns:
                raise UserError(
                    f"{path}: gate.rows.{row} names the column {column!r}, which is not a column of this sweep "
                    f"({', '.join(columns)})."
                )
            cell = replace(_cell(row, column, value, path), std_factor=std_factor, effect_fraction=effect_fraction)
            if hold and not cell.cited and cell.effect is None and cell.tolerance is None:
                raise UserError(
                    f"{path}: gate.rows.{row}.{column} holds the table but says nothing of the effects it must not "
                    "hide: give `effect:` (the smallest gap between two of the paper's numbers that this cell's "
                    "comparisons put side by side, in points; the tolerance is then max(std_factor x std, "
                    "effect_fraction x effect)), or a `tolerance:` with a comment saying why."
                )
            cells.append(cell)
    return GateSpec(tuple(cells), str(raw.get("source", "")), hold, tuple(seeds))


def _rule(raw: Any, path: Path) -> tuple[float, float]:
    """gate.tolerance: {std_factor, effect_fraction} (each optional), the rule a holding cell's tolerance follows."""
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping) or any(k not in _RULE_KEYS for k in raw):
        raise UserError(
            f"{path}: gate.tolerance is the rule a cell's tolerance follows, a mapping with {', '.join(_RULE_KEYS)}, "
            f"e.g. {{std_factor: {STD_FACTOR:g}, effect_fraction: {EFFECT_FRACTION:g}}}; got {raw!r}."
        )
    out = []
    for key, default in zip(_RULE_KEYS, (STD_FACTOR, EFFECT_FRACTION)):
        value = raw.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise UserError(f"{path}: gate.tolerance.{key}={value!r} must be a finite number >= 0.")
        out.append(float(value))
    return out[0], out[1]


def _cell(row: str, column: str, value: Any, path: Path) -> GateCellSpec:
    where = f"gate.rows.{row}.{column}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"number": value}
    if not isinstance(value, Mapping) or "number" not in value:
        raise UserError(f"{path}: {where} must be a number or a mapping {{{', '.join(_CELL_KEYS)}}}.")
    unknown = [k for k in value if k not in _CELL_KEYS]
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r} in {where}; allowed: {', '.join(_CELL_KEYS)}.")
    numbers = {k: value.get(k) for k in ("number", "std", "tolerance", "effect")}
    for key, number in numbers.items():
        ok = (
            number is None
            and key != "number"
            or (isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number))
        )
        if not ok or (key != "number" and number is not None and number < 0):
            bound = "" if key == "number" else " >= 0"
            raise UserError(f"{path}: {where}.{key}={number!r} must be a finite number{bound} (accuracies in percent).")
    texts = {k: value.get(k, "") for k in ("cited", "evidence")}
    if not all(isinstance(t, str) for t in texts.values()) or (texts["evidence"] and not texts["cited"]):
        raise UserError(f"{path}: {where}.cited and .evidence are text; evidence goes with cited (why not to block).")
    return GateCellSpec(
        row,
        column,
        float(numbers["number"]),
        None if numbers["std"] is None else float(numbers["std"]),
        None if numbers["tolerance"] is None else float(numbers["tolerance"]),
        texts["cited"].strip(),
        texts["evidence"].strip(),
        None if numbers["effect"] is None else float(numbers["effect"]),
    )
