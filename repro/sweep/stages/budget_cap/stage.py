"""A budget for one `repro sweep` command (`--max-gpu-hours H`) as a registered stage (repro/sweep/protocol/base.py):
asked after every stage that releases runs (the until-decided stage's further rounds), it holds the runs waiting to
start that would take the sweep past H GPU-hours, counting what its runs spent (cap.py). The budget is this
command's decision (`StageFlag.decides`), not the plan's: no run id changes, and the same command with a larger
budget goes on where this one stopped. Locally, each round of the sweep decides again from the time measured so
far; on SLURM each `repro sweep` submits what still fits."""

from __future__ import annotations

import math

from repro.errors import UserError
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.protocol.base import Asked, Decision, FlagsGiven, Place, Plan, Stage, StageFlag
from repro.sweep.stages.budget_cap.cap import keep_to_budget


def _positive(hours: float, given: FlagsGiven) -> None:
    if not (math.isfinite(hours) and hours > 0):
        raise UserError(
            f"--max-gpu-hours {hours:g}: a budget is a positive number of GPU-hours, what the sweep may spend in all "
            "(its finished runs' measured time included), e.g. --max-gpu-hours 200."
        )


CAP_FLAG = StageFlag(
    "--max-gpu-hours",
    "start nothing that would take the sweep past H GPU-hours: its finished runs' measured time, its queued and "
    "running jobs' and each run to start priced as --dry-run prices them (at --gpu-model's calibration, else this "
    "machine's); what would pass it is held (exit 4), and the same command with a larger H goes on",
    float,
    "H",
    decides=True,  # of this command: it stays off the Scale, so run ids and selection.json do not change
    check=_positive,
)


class BudgetCapStage(Stage):
    key = "budget_cap"
    places = frozenset[Place]()  # no key of a sweep file: its flag alone
    flags = (CAP_FLAG,)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """With `--max-gpu-hours`: the runs that would pass it held, and one line of where the sweep stands."""
        cap = asked.option(CAP_FLAG.name)
        if cap is None:
            return Decision()
        return Decision(lines=(keep_to_budget(plan, float(cap), load_calibration(asked.gpu_model)).line(),))
