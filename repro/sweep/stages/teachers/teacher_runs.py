"""Students in a sweep (Tables 4-5): a cell whose row (or column) has `teacher: {sweep, row, column}`.

For seed s (the teacher stage plans it, repro/sweep/stages/teachers/stage.py, when the expansion asks):

1. the teacher: the referenced cell's reported run of seed s, expanded by *its own* sweep file with this sweep's
   output_root, scale and command-line overrides (so it is exactly the run that table plans, with the same run id;
   its fold and tuning runs come along). Planned with stage "teacher" ("teacher fold", "teacher tune"):
   `repro.sweep.plan` finds it done (used), queued or running (waited for with afterok), or missing (submitted);
2. the student's config gets `method.<source option>=<teacher run id>` (distillation: method.teacher, transferred
   labels: method.source), so a student's run id changes whenever its teacher's does;
3. the student is one run (stage "single"); with a `tune:` stage (Tables 4-5: a grid over method.temperature) its
   tuning runs come first and it picks the winner when it starts, like any tuned cell
   (repro/sweep/stages/tune/tuning_runs.py).

This module imports no other planning module but overrides.py, model.py and sweep_file.py; the teacher's own sweep is
expanded through the cell (`Cell.expand`, repro/sweep/protocol/cell.py), which asks for these runs, and the method a
student trains is the cell's config's (`Cell.choice`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from repro.errors import UserError
from repro.methods.registry import method_declaration
from repro.sweep.expand.overrides import parse_override, quote_value
from repro.sweep.protocol.cell import Cell, Override, SeedRuns
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.stages.teachers.teacher_ref import TeacherRef, column_teacher, row_teacher
from repro.sweep.sweep_file import load_sweep

_SPECS: dict[tuple[Path, str], SweepSpec] = {}
REPORTED = ("single", "final")
_AS_TEACHER = {"fold": "teacher fold", "tune": "teacher tune"}


def student_seed(cell: Cell, seed: int) -> SeedRuns | None:
    """A student cell's seed: its own overrides (its head, and its method's source option set to the teacher run's
    id), the teacher run it depends on, and the teacher's runs to plan first; its run is then the student's one run
    (stage "single"). None: the cell is no student."""
    ref = _cell_ref(cell)
    if ref is None:
        return None
    teacher, planned = _teacher_runs(cell, ref, seed)
    source = teacher_override(cell.choice("method"), teacher, ref, cell.where)
    return SeedRuns([*cell.overrides.own, source], (teacher.run_id,), tuple(planned))


def _cell_ref(cell: Cell) -> TeacherRef | None:
    """The cell's teacher (found once per cell); a learned-labels cell cannot be a student."""
    return cell.once("teacher", lambda: _found_ref(cell))


def _found_ref(cell: Cell) -> TeacherRef | None:
    ref = cell_teacher(cell.spec, cell.row, cell.column)
    if ref is not None and cell.overrides.learn:
        raise UserError(f"{cell.where}: a cell with a teacher is a student; it cannot also learn labels (`learn:`).")
    return ref


def _teacher_runs(cell: Cell, ref: TeacherRef, seed: int) -> tuple[PlannedRun, list[PlannedRun]]:
    """(the teacher run of `seed`, every run of its cell), expanded once per cell by the teacher's own sweep file."""

    def expanded() -> tuple[PlannedRun, list[PlannedRun]]:
        runs = cell.expand(referenced_spec(ref, seed, cell.where, own=seed in cell.spec.seeds))
        return as_teacher(runs, cell.row, cell.column, seed, ref, cell.where)

    return cell.once(("teacher runs", seed), expanded)


def cell_teacher(spec: SweepSpec, row: str, column: str) -> TeacherRef | None:
    """The teacher reference of a cell: its row's or its column's (never both); a reference without a column names
    the student's own column."""
    by_row, by_column = row_teacher(spec, row), column_teacher(spec, column)
    if by_row is not None and by_column is not None:
        raise UserError(
            f"{spec.path}: row {row!r} and column {column!r} both name a teacher; a student has one, so "
            "keep `teacher:` on the row or on the column."
        )
    ref = by_row or by_column
    return replace(ref, column=column) if ref is not None and ref.column is None else ref


def as_teacher(
    runs: list[PlannedRun], row: str, column: str, seed: int, ref: TeacherRef, where: str
) -> tuple[PlannedRun, list[PlannedRun]]:
    """(the teacher run, every run of the teacher's cell renamed to this student's cell and a teacher stage)."""
    if not runs:
        raise UserError(f"{where}: the teacher {ref.describe()} plans no run for that cell.")
    teacher = next(r for r in runs if r.stage in REPORTED)
    renamed = [
        replace(
            r,
            row=row,
            column=column,
            seed=seed,
            stage="teacher" if r.stage in REPORTED else _AS_TEACHER.get(r.stage, f"teacher {r.stage}"),
        )
        for r in runs
    ]
    return teacher, renamed


def teacher_override(method: str, teacher: PlannedRun, ref: TeacherRef, where: str) -> Override:
    """`method.<source option>=<teacher run id>` for the student's method, or a UserError if it learns from none."""
    option = method_declaration(method).source_option
    if option is None:
        raise UserError(
            f"{where}: the row names a teacher ({ref.describe()}), but method={method} learns from no "
            "other run; use method=distillation (teacher predictions) or method=transferred_labels "
            "(its converged labels), or drop `teacher:`."
        )
    return parse_override(f"method.{option}={quote_value(teacher.run_id)}", where=where)


def referenced_spec(ref: TeacherRef, seed: int, where: str, *, own: bool = True) -> SweepSpec:
    """The teacher's sweep restricted to its cell and `seed`, checked (read once per file content). `own`: the
    student's sweep runs `seed` itself, so the teacher's must too (the two files disagree otherwise); a seed beyond the
    student's own (a further seed added where a claim is undecided) plans the teacher's cell at that seed as well."""
    key = (ref.sweep, ref.sweep.read_text())
    if key not in _SPECS:
        _SPECS[key] = load_sweep(ref.sweep)
    spec = _SPECS[key]
    for kind, name, have in (("row", ref.row, spec.rows), ("column", ref.column, spec.columns)):
        if name not in have:
            raise UserError(
                f"{where}: the teacher {ref.describe()} names no {kind} of {ref.sweep}; its {kind}s are: "
                f"{', '.join(map(repr, have))}."
            )
    if ref.row in spec.needs:
        raise UserError(f"{where}: the teacher {ref.describe()} cannot run yet (it needs {spec.needs[ref.row]}).")
    if cell_teacher(spec, ref.row, ref.column) is not None:
        raise UserError(
            f"{where}: the teacher {ref.describe()} is itself a student; a teacher must be a run that "
            "learns from no other run (chains of students are not planned)."
        )
    if seed not in spec.seeds and own:
        raise UserError(
            f"{where}: the teacher {ref.describe()} has no seed {seed} (its seeds: {spec.seeds}); a "
            "student of seed s learns from the teacher of seed s, so give both sweeps the same seeds "
            "(and a tuned student's tuning seeds must be seeds of the teacher's sweep)."
        )
    if ref.column not in spec.row_columns(ref.row):
        raise UserError(
            f"{where}: the teacher {ref.describe()} plans no run for that cell (the row does not cover "
            f"the column: its columns are {spec.row_columns(ref.row)})."
        )
    cell = spec.select(rows=[ref.row], columns=[ref.column])
    return replace(cell, seeds=[seed])
