"""A student's teachers (`teacher:` on a row or a column) as a registered stage (repro/sweep/stages/base.py): its key
(teacher_ref.py); a student cell's runs of each seed, its teacher's first (teacher_runs.py); its graph in
`--dry-run` (teacher_graph.py)."""

from __future__ import annotations

from typing import Any

from repro.sweep.expand.overrides import Override
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.base import Cell, KeyAt, Place, Plan, Stage
from repro.sweep.stages.teachers import teacher_runs
from repro.sweep.stages.teachers.teacher_graph import has_students, student_graph
from repro.sweep.stages.teachers.teacher_ref import TeacherRef, read_teacher


class TeacherStage(Stage):
    key = "teacher"
    places = frozenset({Place.ROW, Place.COLUMN})

    def read(self, value: Any, at: KeyAt) -> TeacherRef:
        return read_teacher(value, at.path, at.where)

    def plan_seed(
        self, cell: Cell, seed: int, end: list[Override], depends_on: tuple[str, ...]
    ) -> list[PlannedRun] | None:
        return teacher_runs.student_runs(cell, seed, end, depends_on)

    def seed_base(self, cell: Cell, seed: int) -> tuple[list[Override], tuple[str, ...], list[PlannedRun]] | None:
        return teacher_runs.student_base(cell, seed)

    def graph(self, plan: Plan) -> list[str]:
        """Per reported student run: its teacher, its tuning runs and itself (teacher_graph.py)."""
        return [student_graph(plan)] if has_students(plan) else []
