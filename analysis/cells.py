"""A sweep cell's runs: the planned runs of a (row, column) of a sweep file (analysis/sweeps.py) joined to the run
frame (analysis/collect.py) by run id. Tables and figures find their runs only this way, so both report the runs the
sweep file says make a cell, and nothing else that happens to share an output root.

Takes planned runs and the run frame; gives each planned run with its frame row (None: never started). A tuned run
that is its winning tuning run has that run's record when the frame has none of its own (`adopted_record`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import pandas as pd

from analysis.collect import DONE
from analysis.sweeps import PlannedRun
from analysis.wandb_source import PATH_PREFIX
from repro.sweep.stages.tune.tuning import choose, same_training

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


def adopted_record(planned: PlannedRun, by_id: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """A tuned run that is its winning tuning run (repro/runs/adopt.py) has no record of its own where the runs come
    from W&B (it trained nothing, so it logged no W&B run): its record is the winner's tuning run's, found as the
    run would find it, from the tuning runs' `select` scores (mean over seeds, ties to the grid's first point). None
    when the run is not such a run, its race was successive halving (decided from run directories), a tuning run is
    missing or not done, or the runs come from run directories (where an adopted run has its own)."""
    config = planned.config
    if planned.trains or (config.get("tune") or {}).get("halving"):  # its stage planned it to train itself
        return None
    tune = config["tune"]
    points: dict[tuple, list[float]] = {}
    for entry in tune["runs"]:
        record = by_id.get(str(entry["run"]))
        score = None if record is None or record["state"] != DONE else record.get(tune["select"])
        if not isinstance(score, (int, float)) or isinstance(score, bool) or score != score:
            return None
        points.setdefault(tuple(entry["values"]), []).append(float(score))
    winner = choose([(point, statistics.fmean(scores), []) for point, scores in points.items()])
    source = same_training(config)[winner]
    if not str(by_id[source].get("path") or "").startswith(PATH_PREFIX):
        return None  # run directories: an adopted run has its own, and a run not yet adopted is not done
    return {**by_id[source], "run_id": planned.run_id, "same_training_as": source}


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
        CellRun(p, by_id.get(p.run_id) or adopted_record(p, by_id))
        for p in planned
        if p.stage in stages
        and (not rows or p.row in rows)
        and (not columns or p.column in columns)
        and (fold is None or p.fold == fold)
    ]
