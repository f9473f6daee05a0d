"""The `gate:` key of a sweep file: which cells check the table's recipe against a published number before the rest
of the table spends (repro/sweep/gate.py runs the check).

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

A cell's tolerance defaults to the larger of 1 point and twice the number's std (in the table's metric, percent for
accuracies). A `cited` cell is reported with its evidence and never holds the table: a correct recipe should not be
blocked by a number its source paper got with a weaker one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError

_KEYS = ("source", "hold", "rows")
_CELL_KEYS = ("number", "std", "tolerance", "cited", "evidence")
MIN_TOLERANCE = 1.0  # points: below this a published number's rounding and seed noise decide
STD_FACTOR = 2.0


@dataclass(frozen=True)
class GateCellSpec:
    row: str
    column: str
    number: float
    std: float | None = None
    tolerance: float | None = None  # None: max(MIN_TOLERANCE, STD_FACTOR x std)
    cited: str = ""  # set: the number comes from another paper's weaker recipe; reported, never holds
    evidence: str = ""  # where a re-run of that recipe landed (the reason not to block on the number)

    @property
    def allowed(self) -> float:
        if self.tolerance is not None:
            return self.tolerance
        return max(MIN_TOLERANCE, STD_FACTOR * (self.std or 0.0))

    def number_text(self) -> str:
        return f"{self.number:g}" + (f" ± {self.std:g}" if self.std is not None else "")


@dataclass(frozen=True)
class GateSpec:
    cells: tuple[GateCellSpec, ...]
    source: str = ""
    hold: bool = True

    @property
    def rows(self) -> list[str]:
        return list(dict.fromkeys(c.row for c in self.cells))

    def cell(self, row: str, column: str) -> GateCellSpec | None:
        return next((c for c in self.cells if (c.row, c.column) == (row, column)), None)


def parse_gate(raw: Any, path: Path, rows: list[str], columns: list[str]) -> GateSpec | None:
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
            cells.append(_cell(row, column, value, path))
    return GateSpec(tuple(cells), str(raw.get("source", "")), hold)


def _cell(row: str, column: str, value: Any, path: Path) -> GateCellSpec:
    where = f"gate.rows.{row}.{column}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"number": value}
    if not isinstance(value, Mapping) or "number" not in value:
        raise UserError(f"{path}: {where} must be a number or a mapping {{number, std, tolerance, cited, evidence}}.")
    unknown = [k for k in value if k not in _CELL_KEYS]
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r} in {where}; allowed: {', '.join(_CELL_KEYS)}.")
    numbers = {k: value.get(k) for k in ("number", "std", "tolerance")}
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
    )
