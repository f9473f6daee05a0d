"""A cell tuned by another table's tuning stage (`tune: {from: {sweep, row, column}}`): its runs take their tuned
keys' values from the tuning runs of the referenced cell, as that cell's own runs do, and wait for them (a dependency,
as a student waits for its teacher). Table 10's curriculum ablation runs at Table 6's tuned point this way:

    rows:
      Entropy weight, model step:
        overrides: [method.curriculum_weight=entropy]
        tune: {from: {sweep: table6.yaml, row: Ours (Instance labels)}}   # column: this cell's own

The referenced cell is expanded by its own sweep file (this sweep's output root, scale and command-line overrides),
so its tuning runs are exactly the runs that table plans (same ids, trained once); they are planned here as this
cell's stage "tune". The cell's runs get that cell's `tune=...` node: the same tuning runs, keys and selection, so
each picks the same winner when it starts (repro/sweep/stages/tune/tuning.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from repro.errors import UserError
from repro.sweep.expand.overrides import override_value, parse_override
from repro.sweep.protocol.cell import Override
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.stages.teachers.teacher_ref import TeacherRef
from repro.sweep.sweep_file import load_sweep

REPORTED = ("single", "final")
# what the tuning runs depend on (a student's teacher) keeps a teacher stage: never reported as this cell's
_AS_DEPENDENCY = {"single": "teacher", "final": "teacher", "fold": "teacher fold"}


def borrowed_tuning(
    ref: TeacherRef, row: str, column: str, where: str, expand: Callable[[SweepSpec], list[PlannedRun]]
) -> tuple[list[PlannedRun], Override]:
    """(the referenced cell's tuning runs, and what they depend on, as this cell's; the `tune=...` override)."""
    column_ref = ref.column or column
    spec = load_sweep(ref.sweep)
    for kind, name, have in (("row", ref.row, spec.rows), ("column", column_ref, spec.columns)):
        if name not in have:
            raise UserError(
                f"{where}: tune.from names no {kind} {name!r} of {ref.sweep}; its {kind}s are: "
                f"{', '.join(map(repr, have))}."
            )
    runs = expand(spec.select(rows=[ref.row], columns=[column_ref], seeds=spec.seeds[:1]))
    reported = next((r for r in runs if r.stage in REPORTED), None)
    node = (reported.config.get("tune") or {}) if reported is not None else {}
    if not node.get("keys"):
        raise UserError(
            f"{where}: tune.from names {ref.sweep.name} row {ref.row!r} column {column_ref!r}, which is not tuned; "
            "name a cell with a `tune:` grid (its winner is what this cell trains with)."
        )
    by_id = {r.run_id: r for r in runs}
    needed: set[str] = set()
    todo = [str(e["run"]) for e in node["runs"]]
    while todo:
        rid = todo.pop()
        if rid not in needed:
            needed.add(rid)
            todo += list(by_id[rid].depends_on) if rid in by_id else []
    cell = {"row": row, "column": column}
    borrowed = [replace(r, **cell, stage=_AS_DEPENDENCY.get(r.stage, r.stage)) for r in runs if r.run_id in needed]
    return borrowed, parse_override(f"tune={override_value(dict(node))}", where=f"{where}: tune.from")
