"""A sweep cell's runs: the planned runs of a (row, column) of a sweep file (analysis/sweeps.py) joined to the run
frame (analysis/collect.py) by run id. Tables and figures find their runs only this way, so both report the runs the
sweep file says make a cell, and nothing else that happens to share an output root.

Takes planned runs and the run frame; gives each planned run with its frame row (None: never started).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import pandas as pd

from analysis.collect import DONE
from analysis.sweeps import PlannedRun

# A cell's reported runs: a plain run ("single") or a learned row's replay ("final"); the fold runs of a learned row
# only learn its labels, tuning and teacher runs are the cell's inputs.
REPORTED_STAGES = ("single", "final")


@dataclass(frozen=True)
class CellRun:
    """A planned run of a cell and its record in the run frame (None: not started)."""

    planned: PlannedRun
    run: dict[str, Any] | None

    @property
    def done(self) -> bool:
        return self.run is not None and self.run["state"] == DONE


def index_runs(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """run_id -> frame row; if a run id appears twice (e.g. from two sources), the finished record wins."""
    if frame.empty:
        return {}
    order = frame.assign(_done=(frame["state"] == DONE)).sort_values("_done", kind="stable")
    return {rec["run_id"]: rec for rec in order.drop(columns="_done").to_dict("records")}


def cell_runs(
    planned: Iterable[PlannedRun],
    by_id: dict[str, dict[str, Any]],
    *,
    rows: Sequence[str] = (),
    columns: Sequence[str] = (),
    stages: Sequence[str] = REPORTED_STAGES,
    fold: int | None = None,
) -> list[CellRun]:
    """The planned runs of the given rows and columns (empty: all) at these stages (and this fold), in plan order,
    each with its frame row."""
    return [
        CellRun(p, by_id.get(p.run_id))
        for p in planned
        if p.stage in stages
        and (not rows or p.row in rows)
        and (not columns or p.column in columns)
        and (fold is None or p.fold == fold)
    ]
