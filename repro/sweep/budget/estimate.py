"""A sweep's estimate in GPU-hours: each planned run priced as repro/sweep/budget/costs.py prices it (at the share it
trains, packed `runs_per_gpu` to a GPU), summed by stage and by row, with what was estimated rather than measured and
why the total is "at least" where it is. The dry run, `repro sweep status`, the preflight and `repro plan` print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterable

from tabulate import tabulate

from repro.sweep.budget.calibration import Calibration, load_calibration
from repro.sweep.budget.costs import LOWER_BOUND_WHY, price, run_gpu_hours, step_kind
from repro.sweep.budget.packing import packed_hours
from repro.sweep.plan import Plan
from repro.sweep.spec.model import PlannedRun

STAGES = ("tune", "single", "fold", "final")  # the table's order: the tuning stage first, the others wait for it


@dataclass
class Estimate:
    rows: list[list[Any]]  # stage, runs, GPU-hours
    total: float
    remaining: float  # runs not done yet
    unpriced: list[str]  # why some runs have no price at all (they count as nothing, and it is said)
    calibration: Calibration
    by_row: list[list[Any]] = field(default_factory=list)  # row, stage, runs, GPU-hours, per run
    notes: list[str] = field(default_factory=list)  # how estimated figures were had
    lower_bound: bool = False  # some figure is a lower bound, or some run unpriced: the total is "at least"
    reused: tuple[int, float] = (0, 0.0)  # tuned runs that are their winning tuning run, and what they would cost

    def render(self) -> str:
        hours = short_hours_text
        at_least = "at least " if self.lower_bound or self.unpriced else ""
        body = [*self.rows, ["total", sum(r[1] for r in self.rows), f"{at_least}{hours(self.total)}"]]
        lines = [
            f"estimated GPU-hours (per-step costs: {self.calibration.gpu}, {self.calibration.provenance}):",
            tabulate(body, headers=["stage", "runs", "GPU-hours"], tablefmt="simple", disable_numparse=True),
        ]
        if self.by_row:
            lines += [
                "",
                "per row:",
                tabulate(
                    self.by_row,
                    headers=["row", "stage", "runs", "GPU-hours", "per run"],
                    tablefmt="simple",
                    disable_numparse=True,
                ),
            ]
        lines.append(f"still to run (not done): {at_least}{hours(self.remaining)} GPU-hours")
        if self.reused[0]:
            lines.append(
                f"not trained twice: {self.reused[0]} tuned runs are their seed's winning tuning run (same config, "
                f"seed and split: `where: []`) and take its records; {hours(self.reused[1])} GPU-hours saved"
            )
        if self.notes:
            lines.append("estimated figures (not measured on this GPU):")
            lines += [f"  - {n}" for n in self.notes]
        if self.lower_bound:
            lines.append(f'the total is "at least": {LOWER_BOUND_WHY}')
        for why in self.unpriced:
            lines.append(f"not priced, so the total is a lower bound: {why}")
        return "\n".join(lines)


def short_hours_text(hours: float) -> str:
    """Two decimals; small figures (a digits run) with two significant digits instead of 0.00."""
    return f"{hours:.2f}" if hours >= 0.1 or hours == 0 else f"{hours:.2g}"


def hours_text(hours: float, at_least: bool = False) -> str:
    """As the dry run prints a total: two decimals (two significant digits below 0.1), "at least" for a bound."""
    return ("at least " if at_least else "") + short_hours_text(hours)


def estimate(
    runs: Iterable[PlannedRun],
    cal: Calibration,
    done: Collection[str] = (),
    runs_per_gpu: int = 1,
) -> Estimate:
    """The estimate of a sweep's unique planned `runs` (those in `done` count apart: not still to run), each priced
    at the share of its run it trains and at nothing where it trains nothing (`PlannedRun.share`, `trains`: what
    its stage decided); `runs_per_gpu`: runs packed per GPU, priced from the measured concurrency
    (repro/sweep/budget/packing.py)."""
    per_stage: dict[str, list[float]] = {s: [0, 0.0] for s in STAGES}
    per_row: dict[tuple[str, str], list[float]] = {}
    remaining, unpriced, notes, lower = 0.0, {}, {}, False
    reused = [0, 0.0]  # tuned runs that are one of their tuning runs, and the GPU-hours they would have trained
    for run in runs:
        stage, config = run.stage, run.config
        got = price(config, cal)
        hours = run_gpu_hours(config, cal, run.share)
        if got is not None:
            notes.update(dict.fromkeys(got.notes))
            lower = lower or got.lower_bound
        if hours is None:
            model, kind = config["model"]["name"], step_kind(config)
            reason = "; ".join(got.notes) if got is not None else "the calibration has no figure to price it from"
            unpriced.setdefault(f"{model} ({kind.key} steps): {reason}", None)
            continue
        if not run.trains:  # its winning tuning run is this very training: trained once, there
            reused[0] += 1
            reused[1] += hours
            hours = 0.0
        hours, note = packed_hours(hours, str(config["model"]["name"]), step_kind(config).key, cal, runs_per_gpu)
        notes.update({note: None} if note else {})
        per_stage.setdefault(stage, [0, 0.0])
        per_stage[stage][0] += 1
        per_stage[stage][1] += hours
        cell = per_row.setdefault((run.row, stage), [0, 0.0])
        cell[0] += 1
        cell[1] += hours
        remaining += 0.0 if run.run_id in done else hours
    table = [[s, int(n), short_hours_text(h)] for s, (n, h) in per_stage.items() if n]
    by_row = [[r, s, int(n), short_hours_text(h), short_hours_text(h / n)] for (r, s), (n, h) in per_row.items()]
    return Estimate(
        table,
        sum(h for _, h in per_stage.values()),
        remaining,
        list(unpriced),
        cal,
        by_row,
        list(notes),
        lower,
        (int(reused[0]), reused[1]),
    )


def plan_estimate(plan: Plan, gpu_name: str | None = None, runs_per_gpu: int = 1) -> Estimate:
    """The estimate of an expanded sweep plan (repro/sweep/plan.py), its runs packed `runs_per_gpu` to a GPU."""
    return estimate(plan.unique.values(), load_calibration(gpu_name), plan.done, runs_per_gpu)
