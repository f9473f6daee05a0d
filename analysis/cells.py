"""The run frame's records by run id, for the results index (repro/sweep/index.py, through analysis/sweeps.py): a
sweep cell's runs are its planned runs joined to these records, so tables, figures and the ledger report the runs
the sweep file says make a cell, and nothing else that happens to share an output root.

Takes the run frame (analysis/collect.py, or the W&B API's, analysis/wandb_source.py); gives each run's record, and
whether a record came from W&B (where a tuned run that took its winning tuning run's records logged nothing of its
own, so its cell reports the winner's record for it: the run the tuning stage decided it takes).
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from analysis.collect import DONE
from analysis.wandb_source import PATH_PREFIX
from repro.sweep.index import REPORTED_STAGES, CellRun

__all__ = ["REPORTED_STAGES", "CellRun", "from_wandb", "index_runs"]


def index_runs(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """run_id -> frame row; if a run id appears twice (e.g. from two sources), the finished record wins."""
    if frame.empty:
        return {}
    order = frame.assign(_done=(frame["state"] == DONE)).sort_values("_done", kind="stable")
    return {rec["run_id"]: rec for rec in order.drop(columns="_done").to_dict("records")}


def from_wandb(record: Mapping[str, Any]) -> bool:
    """Whether a record came from the W&B API (its path names the W&B run), not from a run directory: a run that
    took another's records has its own directory, but no W&B run."""
    return str(record.get("path") or "").startswith(PATH_PREFIX)
