"""The baseline gate (`gate:`) as a registered stage (repro/sweep/stages/base.py): its key, read against the file's
rows, columns and seeds (gate_spec.py); its decision on a plan, the runs it holds, and its verdict in `repro sweep
status` (gate.py)."""

from __future__ import annotations

from typing import Any

from repro.sweep.spec.model import SweepSpec
from repro.sweep.stages.base import Asked, Decision, KeyAt, Plan, Stage, TableNotes
from repro.sweep.stages.gate.gate import check, evaluate_gate
from repro.sweep.stages.gate.gate_spec import KEY, GateSpec, gate_of, read_gate


class GateStage(Stage):
    key = KEY

    def read(self, value: Any, at: KeyAt) -> GateSpec | None:
        return read_gate(value, at.path, at.where, at.rows, at.columns, at.seeds)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """The verdict, `--accept-gate` recorded (`accept`), the recipe judged added to gate.json (`record`); the
        runs it holds read `held` (gate.py)."""
        return check(plan, accept=asked.accept, record=asked.record)

    def notes(self, plan: Plan) -> TableNotes:
        """Under a table: the gate's verdict on the plan's runs (none for a sweep file without a gate)."""
        if gate_of(plan.spec) is None:
            return TableNotes()
        note = evaluate_gate(plan.spec, plan.runs, plan.output_root, plan.scale).note()
        return TableNotes(under=(note,) if note else ())

    def kept_rows(self, spec: SweepSpec) -> tuple[str, ...]:
        """A gate that holds keeps its rows in a selection: it checks the recipe every row uses."""
        gate = gate_of(spec)
        return tuple(gate.rows) if gate is not None and gate.hold else ()
