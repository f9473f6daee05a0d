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

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError
from repro.schema import SweepFile, build, check_node, option, schema
from repro.sweep.spec.model import SweepSpec

KEY = "gate"  # the stage's key in a sweep file (repro/sweep/stages/gate/stage.py)
MIN_TOLERANCE = 1.0  # points: a report-only cell's floor (cited, or a gate with hold: false)
STD_FACTOR = 2.0  # the published std's multiple a tolerance is at least (the paper's own seed spread)
EFFECT_FRACTION = 0.5  # the fraction of the smallest claimed effect a tolerance is at least (rounding, our seeds)
_POINTS = "accuracies in percent"


@dataclass(frozen=True)
class _Table:
    """The rule of `gate.rows`: a mapping of rows to their cells, not empty (each row is read against the file)."""

    def check(self, value: Any) -> str | None:
        return None if isinstance(value, Mapping) and value else self.describe()

    def describe(self) -> str:
        return "a non-empty mapping of rows to columns to numbers (row -> column -> number)"


@schema
class GateRule:
    """`gate.tolerance`: the rule a holding cell's tolerance follows (module docstring)."""

    std_factor: float = option(default=STD_FACTOR, ge=0, why="a tolerance is at least this many published stds")
    effect_fraction: float = option(
        default=EFFECT_FRACTION, ge=0, why="a tolerance is at least this share of the cell's smallest claimed effect"
    )


@schema
class GateKey:
    """`gate:` (repro/sweep/stages/gate/): what the numbers are, whether the gate holds, its cells and rule."""

    source: str = option(default="", why="what the numbers are (printed with the verdict)")
    hold: bool = option(default=True, why="true: hold the table until the gate passes; false: report only")
    rows: Any = option(rule=_Table(), why="row -> column -> the number its mean over seeds should land near")
    tolerance: GateRule = option(default_factory=GateRule, why="the rule a holding cell's tolerance follows")


@schema
class GateCell:
    """One cell of `gate.rows` (a bare number is its `number`)."""

    number: float = option(hint=_POINTS, why="the published number the cell's mean over seeds should land near")
    std: float | None = option(default=None, ge=0, hint=_POINTS, why="the published std over seeds")
    tolerance: float | None = option(
        default=None, ge=0, hint=_POINTS, why="the cell's own tolerance (with a comment saying why): no rule"
    )
    effect: float | None = option(
        default=None, ge=0, hint=_POINTS, why="the smallest effect the table claims in this cell's comparisons"
    )
    cited: str = option(default="", why="another paper's weaker recipe the number comes from: reported, never holds")
    evidence: str = option(default="", why="where a re-run of that recipe landed (goes with cited)")


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


def read_gate(
    raw: Any, path: Path, where: str, rows: tuple[str, ...], columns: tuple[str, ...], seeds: tuple[int, ...] = ()
) -> GateSpec | None:
    """The key at `where` (gate) checked through its declarations, then against the file's rows and columns (None:
    the file has no gate)."""
    if raw is None:
        return None
    source = SweepFile(path)
    check_node(GateKey, raw, where, source=source)
    key = build(GateKey, raw)
    cells = []
    for row, by_column in raw["rows"].items():
        if row not in rows:
            raise UserError(
                f"{where}.rows names {row!r}, which is not a row of the sweep file {path} ({', '.join(rows)}). {_THERE}"
            )
        if not isinstance(by_column, Mapping) or not by_column:
            raise UserError(
                f"{where}.rows.{row} in the sweep file {path} must map columns to their numbers, e.g. "
                f"{{{columns[0]}: {{number: 77.1, std: 0.3, effect: 0.4}}}}. {_THERE}"
            )
        for column, value in by_column.items():
            if column not in columns:
                raise UserError(
                    f"{where}.rows.{row} names the column {column!r}, which is not a column of the sweep file {path} "
                    f"({', '.join(columns)}). {_THERE}"
                )
            cell = _cell(row, column, value, f"{where}.rows.{row}.{column}", source)
            cell = replace(cell, std_factor=key.tolerance.std_factor, effect_fraction=key.tolerance.effect_fraction)
            if key.hold and not cell.cited and cell.effect is None and cell.tolerance is None:
                raise UserError(
                    f"{where}.rows.{row}.{column} in the sweep file {path} holds the table but says nothing of the "
                    "effects it must not hide: give `effect:` (the smallest gap between two of the paper's numbers "
                    "that this cell's comparisons put side by side, in points; the tolerance is then max(std_factor "
                    "x std, effect_fraction x effect)), or a `tolerance:` with a comment saying why. "
                    f"{_THERE}"
                )
            cells.append(cell)
    return GateSpec(tuple(cells), key.source, key.hold, tuple(seeds))


_THERE = "Fix the key there. Nothing was run or written."


def _cell(row: str, column: str, value: Any, where: str, source: SweepFile) -> GateCellSpec:
    node = {"number": value} if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    check_node(GateCell, node, where, source=source)
    cell = build(GateCell, node)
    if cell.evidence and not cell.cited:
        raise UserError(
            f"{where}.evidence in the sweep file {source.path}: evidence goes with cited, saying why a cited number "
            f"(another recipe's) does not block. Give `cited:` too, or leave evidence out. {_THERE}"
        )
    return GateCellSpec(
        row,
        column,
        float(cell.number),
        None if cell.std is None else float(cell.std),
        None if cell.tolerance is None else float(cell.tolerance),
        cell.cited.strip(),
        cell.evidence.strip(),
        None if cell.effect is None else float(cell.effect),
    )


def gate_of(spec: SweepSpec) -> GateSpec | None:
    """The cells of a sweep that check the recipe first (its `gate:` key), or None."""
    return spec.stage_settings.get(KEY)
