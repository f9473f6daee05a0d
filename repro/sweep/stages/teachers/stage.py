"""A student's teachers (`teacher:` on a row or a column) as a registered stage (repro/sweep/stages/base.py): its key
(teacher_ref.py); its runs are planned per cell by the expansion (teacher_runs.py), and its graph is part of
`--dry-run`'s (repro/sweep/graph.py)."""

from __future__ import annotations

from typing import Any

from repro.sweep.stages.base import KeyAt, Place, Stage
from repro.sweep.stages.teachers.teacher_ref import TeacherRef, parse_teacher


class TeacherStage(Stage):
    key = "teacher"
    places = frozenset({Place.ROW, Place.COLUMN})

    def read(self, value: Any, at: KeyAt) -> TeacherRef:
        return parse_teacher(value, at.path, at.where)
