"""What the preflight (repro/sweep/stages/tune/preflight.py) concludes from its runs: per tuned cell, whether the labels
move as its tuning needs, and the plan's hours recalibrated by the preflight's measured step times."""

from __future__ import annotations

import statistics

from tabulate import tabulate

from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import run_gpu_hours, step_kind
from repro.sweep.plan import Plan


def movement_verdicts(moves: dict[tuple[str, str], list[tuple[float | None, float]]]) -> list[str]:
    """Per cell, whether some corner of its grid moves the labels as its tuning needs: a WARNING when none does
    (the grid's label_lr was chosen for another recipe: a larger model lr or a longer run), else one line."""
    lines = []
    for (row, column), got in moves.items():
        measured = [(m, n) for m, n in got if m is not None]
        if not measured:
            lines.append(f"preflight {row} / {column}: no corner recorded label movement (not a learned-label row?)")
            continue
        best, needed = max(measured)
        if all(m < n for m, n in measured):
            lines.append(
                f"WARNING preflight {row} / {column}: no corner of the grid moves the labels as the tuning needs "
                f"(at most {best:.4f} per epoch, {needed:.4f} needed): its tuning runs would act as fixed targets. "
                "The grid's label_lr was likely chosen for another recipe (the label step scales with the model's lr "
                "and the run's length): scale it to this recipe in the sweep file before spending its GPU-hours."
            )
        else:
            lines.append(
                f"preflight {row} / {column}: the labels move as the tuning needs ({best:.4f} per epoch at best, "
                f"{needed:.4f} needed)"
            )
    return lines


def recalibrated(plan: Plan, cal: Calibration, ratios: dict[tuple, list[float]]) -> str:
    """The plan's hours on this machine: each run's estimate times its kind's measured / estimated ratio."""
    if not ratios:
        return "recalibrated plan: no preflight run finished, nothing to recalibrate from"
    mean = statistics.fmean(r for rs in ratios.values() for r in rs)
    per_stage: dict[str, float] = {}
    left = 0.0
    for rid, run in plan.unique.items():
        hours = run_gpu_hours(run.config, cal, run.share)
        if hours is None:
            continue
        got = ratios.get(run_kind(run.config))
        hours *= statistics.fmean(got) if got else mean
        per_stage[run.stage] = per_stage.get(run.stage, 0.0) + hours
        left += 0.0 if plan.status[rid].state == "done" else hours
    factors = ", ".join(f"{m}/{k}: {statistics.fmean(r):.3g}x" for (m, k), r in ratios.items())
    rows = [[s, f"{h:.3g}"] for s, h in per_stage.items()] + [["total", f"{sum(per_stage.values()):.3g}"]]
    return "\n".join(
        [
            f"recalibrated plan on this machine (measured / estimated per model and step kind: {factors}; "
            f"other kinds: {mean:.3g}x):",
            tabulate(rows, headers=["stage", "device-hours"], tablefmt="simple", disable_numparse=True),
            f"still to run: {left:.3g} device-hours",
        ]
    )


def run_kind(config: dict) -> tuple[str, str]:
    return config["model"]["name"], step_kind(config).key
