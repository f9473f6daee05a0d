"""The estimated-T hold (`estimated_t:`) as a registered stage (repro/sweep/stages/base.py): its key is read here
(estimated_t_spec.py); its decision holds the runs of an estimated T until the first of them has recorded it, and
keeps them held while it is flagged (estimate_hold.py)."""

from __future__ import annotations

from repro.sweep.stages.base import Plan, Stage
from repro.sweep.stages.estimated_t.estimate_hold import hold_estimates, render
from repro.sweep.stages.estimated_t.estimated_t_spec import EstimatedTSpec


class EstimatedTStage(Stage):
    key = "estimated_t"
    Spec = EstimatedTSpec

    def decide(self, plan: Plan) -> list[str]:
        """Hold the estimated-T runs that wait for their estimate's record, or whose record is flagged (their
        status reads `held`, with why); returns what it says of them."""
        return render(hold_estimates(plan, plan.spec.stage_settings.get(self.key)), plan)
