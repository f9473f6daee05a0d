"""A student's teachers (`teacher:` on a row or a column) as a registered stage (repro/sweep/protocol/base.py): its key
(teacher_ref.py); a student cell's seed, its teacher's runs first (teacher_runs.py); its graph in `--dry-run`
(teacher_graph.py)."""

from __future__ import annotations

from typing import Any

from repro.sweep.protocol.base import Asked, Decision, DryRun, KeyAt, Place, Plan, Stage
from repro.sweep.protocol.cell import Cell, SeedRuns
from repro.sweep.stages.teachers import teacher_runs
from repro.sweep.stages.teachers.teacher_graph import has_students, student_graph
from repro.sweep.stages.teachers.teacher_ref import KEY, TeacherRef, read_teacher


class TeacherStage(Stage):
    key = KEY
    places = frozenset({Place.ROW, Place.COLUMN})

    def read(self, value: Any, at: KeyAt) -> TeacherRef:
        return read_teacher(value, at.path, at.where)

    def plan_seed(self, cell: Cell, seed: int) -> SeedRuns | None:
        return teacher_runs.student_seed(cell, seed)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """Nothing held; in a dry run, per reported student run: its teacher, its tuning runs and itself
        (teacher_graph.py)."""
        if not (asked.dry_run and has_students(plan)):
            return Decision()
        return Decision(dry_run=DryRun(graphs=(student_graph(plan),)))
