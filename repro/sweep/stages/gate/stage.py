"""The baseline gate (`gate:`) as a registered stage (repro/sweep/stages/base.py): its key, read against the file's
rows, columns and seeds (gate_spec.py); its decision on a plan, the runs it holds, and its verdict in `repro sweep
status`."""

from __future__ import annotations

from typing import Any

from repro.sweep.spec.model import SweepSpec
from repro.sweep.stages.base import KeyAt, Plan, Stage
from repro.sweep.stages.gate.gate import check
from repro.sweep.stages.gate.gate_spec import GateSpec, read_gate


class GateStage(Stage):
    key = "gate"

    def read(self, value: Any, at: KeyAt) -> GateSpec | None:
        return read_gate(value, at.path, at.where, at.rows, at.columns, at.seeds)

    def decide(self, plan: Plan) -> list[str]:
        """The gate's verdict, kept on the plan (`plan.gate`); the runs it holds read `held` (gate.py)."""
        return self.decide_to_run(plan, accept=False, record=False)

    def decide_to_run(self, plan: Plan, *, accept: bool, record: bool) -> list[str]:
        """The verdict, `--accept-gate` recorded (`accept`), the recipe judged added to gate.json (`record`)."""
        text = check(plan, accept=accept, record=record)
        return [text] if text else []

    def kept_rows(self, spec: SweepSpec) -> tuple[str, ...]:
        """A gate that holds keeps its rows in a selection: it checks the recipe every row uses."""
        return tuple(spec.gate.rows) if spec.gate is not None and spec.gate.hold else ()
