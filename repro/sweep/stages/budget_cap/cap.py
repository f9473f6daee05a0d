"""What a budget (`--max-gpu-hours H`) lets a sweep start: what its runs have spent, what the runs already started
will cost, and which runs waiting to start still fit.

Spent: each finished run's measured training time (summary.json's `seconds`, else its epochs' in metrics.jsonl: a
rung's job stopped at its rung; one GPU per run; a run that took another run's records, nothing), else its price; a
run directory that several jobs train (a successive-halving rung's) is counted once. Committed: each queued or
running job at its price. The runs waiting to start (new, failed, interrupted, damaged) are let go in the plan's
order, each after the runs it depends on, while spent + committed + their prices stay within H; from the first that
would pass it, every one left is held, and so is a run whose dependency is held. A run is priced at the dry run's
per-epoch prices (repro/sweep/budget/costs.py), whole, or the epochs its stage says it has left (a rung's job),
nothing where it trains nothing (`run_hours`). A run held by another stage is neither counted nor let go: when that
stage releases it, the next decision prices it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import full_run_gpu_hours
from repro.sweep.budget.estimate import hours_text
from repro.sweep.plan import SUBMITTABLE, Plan
from repro.sweep.spec.model import PlannedRun

STARTED = ("running", "pending", "unknown")  # submitted and not finished: priced as committed


@dataclass(frozen=True)
class Kept:
    """What a budget decided of a plan: GPU-hours spent, committed (started), let go now, the runs it held, and the
    total the first held run would have brought it to (None: nothing held)."""

    cap: float
    spent: float
    committed: float
    let_go: float
    held: int
    next_total: float | None
    unpriced: int
    calibration: Calibration

    def line(self) -> str:
        """One line: where the sweep stands against its budget, and what it holds."""
        flag = f"--max-gpu-hours {self.cap:g}"
        total = self.spent + self.committed + self.let_go
        parts = (
            f"{hours_text(self.spent)} spent (finished runs' measured time) + {hours_text(self.committed)} started "
            f"+ {hours_text(self.let_go)} to start = {hours_text(total)} GPU-hours (priced at {self.calibration.gpu})"
        )
        unpriced = f"; {self.unpriced} run(s) could not be priced and count as nothing" if self.unpriced else ""
        if not self.held:
            return f"budget {flag}: {parts}; nothing held{unpriced}"
        assert self.next_total is not None
        over = (
            "what is spent and started passes it already"
            if self.spent + self.committed > self.cap
            else f"the next would bring it to {hours_text(self.next_total)}"
        )
        return (
            f"BUDGET HOLDS {self.held} run(s) ({flag}): {parts}; {over}{unpriced}. The same command with a larger "
            "--max-gpu-hours goes on where this one stopped"
        )


def run_hours(run: PlannedRun, cal: Calibration, left: float | None = None) -> float | None:
    """What the run costs if it starts now (None: it cannot be priced): the whole run at the dry run's per-epoch
    prices, or its `left` epochs (its stage's count, a rung's job); a rung's job without one at its share. The dry
    run's expectation also weighs a run by its chance of being needed (a further round's); one let go trains."""
    if not run.trains:  # it takes another run's records
        return 0.0
    hours = full_run_gpu_hours(run.config, cal)
    if hours is None or math.isnan(hours):
        return None
    if left is not None:
        return hours * left / max(int(run.config["optim"]["epochs"]), 1)
    return hours * run.share if run.part_of else hours


def spent_hours(plan: Plan, cal: Calibration) -> tuple[float, int]:
    """GPU-hours the plan's finished runs spent, and how many of them could not be priced where not measured."""
    spent, unpriced, counted = 0.0, 0, set()
    for rid in plan.done:
        run = plan.unique[rid]
        if run.run_dir_id in counted:  # several jobs of one run directory (a rung's): its time once
            continue
        counted.add(run.run_dir_id)
        result = plan.result(rid) or {}
        if result.get("same_training_as"):  # took another run's records: it trained nothing
            continue
        seconds = result.get("seconds")
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):  # no summary: a rung's job, stopped
            epochs = RunDir(plan.output_root / "runs" / run.run_dir_id).read_metrics()
            seconds = sum(float(row.get("seconds") or 0.0) for row in epochs) if epochs else None
        if seconds is not None:
            spent += float(seconds) / 3600
            continue
        hours = run_hours(run, cal)
        unpriced += hours is None
        spent += hours or 0.0
    return spent, unpriced


def start_order(plan: Plan) -> list[str]:
    """The runs waiting to start, in the plan's order, each after those of them it depends on."""
    waiting = [rid for rid, run in plan.unique.items() if plan.status[rid].state in SUBMITTABLE]
    order: list[str] = []
    left = set(waiting)
    while left:
        ready = [rid for rid in waiting if rid in left and not left.intersection(plan.unique[rid].depends_on)]
        for rid in ready or [rid for rid in waiting if rid in left]:  # a cycle (none is planned): as listed
            order.append(rid)
            left.discard(rid)
    return order


def keep_to_budget(plan: Plan, cap: float, cal: Calibration) -> Kept:
    """Hold every run waiting to start that would take the plan past `cap` GPU-hours (module docstring)."""
    spent, unpriced = spent_hours(plan, cal)
    committed = 0.0
    for rid in plan.unique:
        if plan.status[rid].state in STARTED:
            hours = run_hours(plan.unique[rid], cal, plan.status[rid].left)
            unpriced += hours is None
            committed += hours or 0.0
    let_go, held, next_total = 0.0, set(), None
    for rid in start_order(plan):
        run = plan.unique[rid]
        if held.intersection(run.depends_on):
            plan.hold(rid, f"waits for a run the budget holds (--max-gpu-hours {cap:g})")
            held.add(rid)
            continue
        hours = run_hours(run, cal, plan.status[rid].left)
        unpriced += hours is None
        total = spent + committed + let_go + (hours or 0.0)
        if next_total is None and total <= cap:
            let_go += hours or 0.0
            continue
        if next_total is None:
            next_total = total
        plan.hold(rid, f"over the budget: --max-gpu-hours {cap:g} (priced {hours_text(hours or 0.0)} GPU-hours)")
        held.add(rid)
    return Kept(cap, spent, committed, let_go, len(held), next_total, unpriced, cal)
