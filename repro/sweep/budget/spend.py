"""What a sweep has spent and what it will still cost, for `repro sweep status FILE`.

Spent: the finished runs' measured seconds (summary.json) plus the epochs the unfinished ones have logged so far
(metrics.jsonl), on whatever device they ran. Projected: each unfinished run's remaining epochs times a measured
epoch time where there is one (its own epochs so far, else the mean epoch of finished runs of the same kind: model,
data set, step kind, batch, split), else the calibration's estimate (repro/sweep/budget/costs.py) for the part not yet
run. What a run's stage decided is read from the run and its status: a job that trains part of another run
(`PlannedRun.part_of`: a successive-halving rung's) is counted with its run, a run that trains nothing (`trains`) is
not projected, and a job's expected epochs to go are its status's where its stage settled them (`RunStatus.left`).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass

from tabulate import tabulate

from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import full_run_gpu_hours, step_kind
from repro.sweep.plan import SUBMITTABLE, Plan


def _kind(config: dict) -> tuple:
    return (
        config["model"]["name"],
        config["data"]["name"],
        step_kind(config).key,
        config["data"]["batch_size"],
        bool(config["split"].get("full_train")),
        config["data"].get("subset"),
    )


def _epochs(config: dict) -> int:
    return max(int(config["optim"]["epochs"]), 1)


@dataclass
class Spend:
    spent_h: float  # measured, all runs
    projected_h: float  # still to run
    from_measured: int  # unfinished runs projected from measured epoch times
    from_calibration: int  # ... from the calibration
    unpriced: int  # ... from neither (counted as nothing, said)
    calibration: str

    def render(self) -> str:
        lines = [
            f"GPU-hours spent: {self.spent_h:.3g} (finished runs' measured time, running runs' epochs so far)",
            f"GPU-hours projected for the rest: {self.projected_h:.3g} ({self.from_measured} run(s) from measured "
            f"epoch times, {self.from_calibration} from the calibration: {self.calibration})",
        ]
        if self.unpriced:
            lines.append(f"  {self.unpriced} run(s) could not be priced: the projection is a lower bound")
        return "\n".join(lines)


def sweep_spend(plan: Plan, gpu_name: str | None = None) -> Spend:
    """Spent and projected GPU-hours of a plan's unique runs."""
    cal = load_calibration(gpu_name)
    epoch_seconds: dict[tuple, list[float]] = {}
    progress: dict[str, tuple[int, float]] = {}  # run id -> (epochs done, seconds so far)
    spent = 0.0
    for rid, run in plan.unique.items():
        if run.part_of:  # a job that trains part of another run (a rung's): the run is counted once, by its own job
            continue
        rd = RunDir(plan.output_root / "runs" / rid)
        summary = rd.read_summary() if plan.status[rid].state == "done" else None
        if summary is not None and summary.get("same_training_as"):  # a tuning run's records: spent there, once
            continue
        if summary is not None and isinstance(summary.get("seconds"), (int, float)):
            seconds, epochs = float(summary["seconds"]), int(summary.get("epochs") or _epochs(run.config))
        else:
            rows = rd.read_metrics()
            seconds, epochs = sum(float(r.get("seconds") or 0.0) for r in rows), len(rows)
        spent += seconds
        progress[rid] = (epochs, seconds)
        if epochs and summary is not None:
            epoch_seconds.setdefault(_kind(run.config), []).append(seconds / epochs)
    projected, measured, calibrated, unpriced = 0.0, 0, 0, 0
    for rid, run in plan.unique.items():
        status = plan.status[rid]
        if status.state == "done" or not run.trains:  # the latter takes another run's records
            continue
        done_epochs, seconds = progress.get(run.run_dir_id, (0, 0.0))
        left = status.left if status.left is not None else max(_epochs(run.config) - done_epochs, 0)
        per_epoch = seconds / done_epochs if done_epochs else None
        if per_epoch is None and epoch_seconds.get(_kind(run.config)):
            per_epoch = statistics.fmean(epoch_seconds[_kind(run.config)])
        if per_epoch is not None:
            projected += left * per_epoch
            measured += 1
            continue
        hours = full_run_gpu_hours(run.config, cal)
        if hours is None or math.isnan(hours):
            unpriced += 1
            continue
        projected += hours * 3600 * left / _epochs(run.config)
        calibrated += 1
    return Spend(spent / 3600, projected / 3600, measured, calibrated, unpriced, f"{cal.gpu}, {cal.provenance}")


def cells_table(plan: Plan) -> str:
    """Per cell: its runs done, running and queued (SLURM pending, held, or not submitted yet)."""
    counts: dict[tuple[str, str], Counter] = {}
    for rid, run in plan.unique.items():
        state = plan.status[rid].state
        queued = state in ("pending", "held") or state in SUBMITTABLE
        counts.setdefault((run.row, run.column), Counter())["queued" if queued else state] += 1
    body = [[row, column, c["done"], c["running"], c["queued"]] for (row, column), c in counts.items()]
    return tabulate(body, headers=["row", "column", "done", "running", "queued"], tablefmt="simple")
