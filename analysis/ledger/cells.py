"""A table's cells as the ledger reads them: each cell's reported runs in the sweep's results index (repro/sweep/
index.py; those a stage let go as not needed left out), how many are planned, and the metric of those done, each
with its seed, in the table's order (the paper's cells first, then ours as the sweep plans them). The same runs and
values as `repro tables` averages (analysis/tables/build.py), read from the same index, without building the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.collect import DONE
from analysis.sweeps import SweepIndex
from repro.runs.metrics import shown_scale


@dataclass
class CellValues:
    """A cell's planned reported runs, and the metric of those done (percent for an accuracy) with their seeds."""

    planned: int = 0
    values: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)


def cell_values(index: SweepIndex, paper: pd.DataFrame) -> dict[tuple[str, str], CellValues]:
    """(row, column) -> its values, the paper's cells first (in its order), then the sweep's as planned."""
    metric = str(index.spec.metric)
    scale = shown_scale(metric)
    cells = {(rec["row"], rec["column"]): CellValues() for rec in paper.to_dict("records")}
    for found in index.reported():
        cell = cells.setdefault((found.planned.row, found.planned.column), CellValues())
        cell.planned += 1
        value = found.run.get(metric) if found.run is not None else None
        if found.run is not None and found.run["state"] == DONE and _finite(value):
            cell.values.append(float(value) * scale)
            cell.seeds.append(found.planned.seed)
    return cells


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
