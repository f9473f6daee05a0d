"""The baseline gate (`gate:`) as a registered stage (repro/sweep/stages/base.py): its key, read against the file's
rows, columns and seeds (gate_spec.py); its decision on a plan, the runs it holds, and its verdict in `repro sweep
status`."""

from __future__ import annotations

from typing import Any

from repro.sweep.stages.base import KeyAt, Plan, Stage
from repro.sweep.stages.gate.gate import check
from repro.sweep.stages.gate.gate_spec import GateSpec, parse_gate


class GateStage(Stage):
    key = "gate"

    def read(self, value: Any, at: KeyAt) -> GateSpec | None:
        return parse_gate(value, at.path, list(at.rows), list(at.columns), at.seeds)

    def decide(self, plan: Plan) -> list[str]:
        """The gate's verdict, kept on the plan (`plan.gate`); the runs it holds read `held` (gate.py)."""
        text = check(plan)
        return [text] if text else []
