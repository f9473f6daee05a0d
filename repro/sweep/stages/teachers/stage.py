"""A student's teachers (`teacher:` on a row or a column) as a registered stage (repro/sweep/stages/base.py): its key
is read by the sweep file (teacher_ref.py) and its runs planned per cell by the expansion (teacher_runs.py); its
graph is part of `--dry-run`'s (repro/sweep/graph.py). It adds no hook of its own yet."""

from __future__ import annotations

from repro.sweep.stages.base import Stage


class TeacherStage(Stage):
    key = "teacher"
    read_by_sweep_file = True
