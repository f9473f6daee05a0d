"""A sweep file's reference to another table's cell whose runs teach this row's students:

    teacher: {sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}

`sweep` is a path relative to the referencing file's directory (absolute paths work too); `row` and `column` name a
cell of that sweep. The student of seed s learns from the cell's run of seed s (repro/sweep/teachers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError

_KEYS = ("sweep", "row", "column")


@dataclass(frozen=True)
class TeacherRef:
    sweep: Path      # the referenced sweep file (resolved)
    row: str
    column: str

    def describe(self) -> str:
        return f"{self.sweep.name} row {self.row!r} column {self.column!r}"


def parse_teacher(value: Any, path: Path, where: str) -> TeacherRef:
    example = "{sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}"
    if not isinstance(value, Mapping) or set(value) != set(_KEYS) or not all(
            isinstance(value[k], str) and value[k].strip() for k in _KEYS):
        raise UserError(f"{path}: {where} must name the teacher's cell in another sweep file with exactly the keys "
                        f"sweep, row and column, e.g. {example}; got {value!r}.")
    target = Path(value["sweep"]).expanduser()
    target = (target if target.is_absolute() else Path(path).parent / target).resolve()
    if not target.is_file():
        raise UserError(f"{path}: {where}.sweep={value['sweep']!r} names no file ({target}); the path is relative to "
                        f"{Path(path).parent}, e.g. {example}.")
    return TeacherRef(sweep=target, row=str(value["row"]), column=str(value["column"]))
