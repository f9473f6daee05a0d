"""The baseline gate (`gate:`) as a registered stage (repro/sweep/stages/base.py): its key is read by the sweep file
(gate_spec.py); here, its decision on a plan, the runs it holds, and its verdict in `repro sweep status`."""

from __future__ import annotations

from repro.sweep.stages.base import Plan, Stage
from repro.sweep.stages.gate.gate import check


class GateStage(Stage):
    key = "gate"
    read_by_sweep_file = True

    def decide(self, plan: Plan) -> list[str]:
        """The gate's verdict, kept on the plan (`plan.gate`); the runs it holds read `held` (gate.py)."""
        text = check(plan)
        return [text] if text else []
