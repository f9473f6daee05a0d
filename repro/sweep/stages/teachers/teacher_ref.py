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
from typing import Any, Mapping

from repro.errors import UserError

_KEYS = ("sweep", "row", "column")


@dataclass(frozen=True)
class TeacherRef:
    sweep: Path  # the referenced sweep file (resolved)
    row: str
    column: str | None  # None: the student's own column (teachers.cell_teacher fills it in)

    def describe(self) -> str:
        column = "(the student's column)" if self.column is None else repr(self.column)
        return f"{self.sweep.name} row {self.row!r} column {column}"


def parse_teacher(value: Any, path: Path, where: str) -> TeacherRef:
    example = "{sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}"
    if (
        not isinstance(value, Mapping)
        or "row" not in value
        or not set(value) <= set(_KEYS)
        or not all(isinstance(value[k], str) and value[k].strip() for k in value)
    ):
        raise UserError(
            f"{path}: {where} must name the teacher's cell with the keys sweep, row and column, e.g. "
            f"{example} (without sweep: a row of this file; without column: the student's own column); "
            f"got {value!r}."
        )
    if "sweep" not in value:
        return TeacherRef(sweep=Path(path).resolve(), row=str(value["row"]), column=value.get("column"))
    target = Path(value["sweep"]).expanduser()
    target = (target if target.is_absolute() else Path(path).parent / target).resolve()
    if not target.is_file():
        raise UserError(
            f"{path}: {where}.sweep={value['sweep']!r} names no file ({target}); the path is relative to "
            f"{Path(path).parent}, e.g. {example}."
        )
    return TeacherRef(sweep=target, row=str(value["row"]), column=value.get("column"))
