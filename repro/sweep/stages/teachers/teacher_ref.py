"""A sweep file's reference to another table's cell whose runs teach this row's students:

    teacher: {sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}

`sweep` is a path relative to the referencing file's directory (absolute paths work too); `row` and `column` name a
cell of that sweep. The student of seed s learns from the cell's run of seed s
(repro/sweep/stages/teachers/teacher_runs.py).
Without `sweep` the teacher is a row of the referencing file itself; without `column` it is the cell of the
student's own column (a row of students, one per column, each learning from that column's run: the noisy sweeps'
estimated-T and distillation rows, sweeps/table12.yaml and table13.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.errors import UserError
from repro.schema import SweepFile, build, check_node, option, schema
from repro.sweep.spec.model import SweepSpec

KEY = "teacher"  # the stage's key in a sweep file (repro/sweep/stages/teachers/stage.py)
EXAMPLE = "{sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}"


@schema
class TeacherKey:
    """`teacher:` (and `tune: {from: ...}`) as the file writes it: the cell it names; `TeacherRef` is it resolved."""

    row: str = option(why=f"the teacher cell's row, e.g. {EXAMPLE}")
    sweep: str | None = option(
        default=None, why="the sweep file holding it, relative to this file's directory (left out: this file)"
    )
    column: str | None = option(default=None, why="the teacher cell's column (left out: the student's own column)")


@dataclass(frozen=True)
class TeacherRef:
    sweep: Path  # the referenced sweep file (resolved)
    row: str
    column: str | None  # None: the student's own column (teachers.cell_teacher fills it in)

    def describe(self) -> str:
        column = "(the student's column)" if self.column is None else repr(self.column)
        return f"{self.sweep.name} row {self.row!r} column {column}"


def read_teacher(value: Any, path: Path, where: str) -> TeacherRef:
    """The key at `where` checked through its declaration, its `sweep` resolved against the file's directory (a
    file that must exist)."""
    check_node(TeacherKey, value, where, source=SweepFile(path))
    key = build(TeacherKey, value)
    if key.sweep is None:
        return TeacherRef(sweep=Path(path).resolve(), row=key.row, column=key.column)
    target = Path(key.sweep).expanduser()
    target = (target if target.is_absolute() else Path(path).parent / target).resolve()
    if not target.is_file():
        raise UserError(
            f"{where}.sweep={key.sweep!r} in the sweep file {path} names no file ({target}); the path is relative "
            f"to {Path(path).parent}, e.g. {EXAMPLE}. Fix the key there. Nothing was run or written."
        )
    return TeacherRef(sweep=target, row=key.row, column=key.column)


def row_teacher(spec: SweepSpec, row: str) -> TeacherRef | None:
    """The teacher a row names (`teacher:` on the row)."""
    return spec.row_specs[row].settings.get(KEY)


def column_teacher(spec: SweepSpec, column: str) -> TeacherRef | None:
    """The teacher a column names (`teacher:` on the column)."""
    return spec.column_settings.get(column, {}).get(KEY)
