"""The baseline gate (`gate:`) as a registered stage (repro/sweep/protocol/base.py): its key, read against the file's
rows, columns and seeds (gate_spec.py); its decision on a plan, the runs it holds, and its verdict in `repro sweep
status` (gate.py)."""

from __future__ import annotations

from typing import Any

from repro.errors import UserError
from repro.sweep.protocol.base import Asked, Decision, FlagsGiven, KeyAt, Plan, Selection, Stage, StageFlag, TableNotes
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.stages.gate.gate import check, evaluate_gate
from repro.sweep.stages.gate.gate_spec import KEY, GateSpec, gate_of, read_gate


def _only_where_it_trains(accept: bool, given: FlagsGiven) -> None:
    if not given.trains:
        raise UserError(
            "--accept-gate lets a sweep go on past its baseline gate; it applies to `repro sweep FILE` that trains or "
            "submits, not to status, --dry-run or --preflight. Leave it out here."
        )


# what the user accepts of this command's decision (on `Asked`, not the Scale: selection.json never remembers it)
ACCEPT_FLAG = StageFlag(
    "--accept-gate",
    "go on although the sweep's baseline gate holds the table (its runs are not done, or they landed "
    "outside the tolerance of the published number); recorded in <output-root>/sweeps/<name>/gate.json and "
    "printed under the table",
    decides=True,
    check=_only_where_it_trains,
)


class GateStage(Stage):
    key = KEY
    flags = (ACCEPT_FLAG,)

    def read(self, value: Any, at: KeyAt) -> GateSpec | None:
        return read_gate(value, at.path, at.where, at.rows, at.columns, at.seeds)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """The verdict, `--accept-gate` recorded (`accept`), the recipe judged added to gate.json (`record`); the
        runs it holds read `held` (gate.py)."""
        return check(plan, accept=bool(asked.option(ACCEPT_FLAG.name)), record=asked.record)

    def notes(self, plan: Plan) -> TableNotes:
        """Under a table: the gate's verdict on the plan's runs (none for a sweep file without a gate); of the
        paper's numbers: its cells cited from another recipe, and why."""
        gate = gate_of(plan.spec)
        if gate is None:
            return TableNotes()
        note = evaluate_gate(plan.spec, plan.runs, plan.output_root, plan.scale).note()
        cited = tuple((c.row, c.column, f"cited, not of this table's recipe: {c.cited}") for c in gate.cells if c.cited)
        return TableNotes(under=(note,) if note else (), paper_cells=cited)

    def selection(self, spec: SweepSpec, scale: Scale | None) -> Selection:
        """A gate that holds keeps its rows in a selection of rows: it checks the recipe every row uses."""
        gate = gate_of(spec)
        return Selection(rows=tuple(gate.rows) if gate is not None and gate.hold else ())
