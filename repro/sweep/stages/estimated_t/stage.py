"""The estimated-T hold (`estimated_t:`) as a registered stage (repro/sweep/protocol/base.py): its key is read here
(estimated_t_spec.py); its decision holds the runs of an estimated T until the first of them has recorded it, and
keeps them held while it is flagged (estimate_hold.py)."""

from __future__ import annotations

from repro.sweep.protocol.base import Asked, Decision, Plan, Stage
from repro.sweep.stages.estimated_t.estimate_hold import hold_estimates, render
from repro.sweep.stages.estimated_t.estimated_t_spec import KEY, EstimatedTSpec


class EstimatedTStage(Stage):
    key = KEY
    Spec = EstimatedTSpec

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """Hold the estimated-T runs that wait for their estimate's record, or whose record is flagged (their
        status reads `held`, with why); what it says of them."""
        return Decision(tuple(render(hold_estimates(plan, plan.spec.stage_settings.get(self.key)), plan)))
