"""Students in a sweep (Tables 4-5): plan a cell's teacher, its temperature search and its final, as one graph.

A cell whose row (or column) has `teacher: {sweep, row, column}` is a student. For seed s:

1. the teacher: the referenced cell's reported run of seed s, expanded by *its own* sweep file with this sweep's
   output_root, scale and command-line overrides (so it is exactly the run that table plans, with the same run id;
   its fold runs come along when it is a learned-labels final). Planned with stage "teacher" ("teacher fold"):
   `repro.sweep.plan` finds it done (used), queued or running (waited for with afterok), or missing (submitted);
2. the student's config gets `method.<source option>=<teacher run id>` (distillation: method.teacher, transferred
   labels: method.source), so a student's run id changes whenever its teacher's does;
3. with method.temperature=search: one search run per temperature of method.search (stage "search", the
   overrides of repro.temperature.search_overrides) and the final (stage "final") that waits for them and picks
   the temperature on their validation accuracy when it starts; otherwise one run (stage "single").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from repro.errors import UserError
from repro.rundir import run_id
from repro.sweep.compose import Override, parse_override, quote_value
from repro.sweep.spec import PlannedRun, Scale, SweepSpec
from repro.sweep.teacher_ref import TeacherRef
from repro.temperature import SEARCH, search_overrides, search_run_configs

_SPECS: dict[tuple[Path, str], SweepSpec] = {}
_LOADING: set[Path] = set()  # referenced sweep files being loaded (a file whose rows teach each other)
REPORTED = ("single", "final")


def cell_teacher(spec: SweepSpec, row: str, column: str) -> TeacherRef | None:
    """The teacher reference of a cell: its row's or its column's (never both); a reference without a column names
    the student's own column."""
    by_row, by_column = spec.row_specs[row].teacher, spec.column_teachers.get(column)
    if by_row is not None and by_column is not None:
        raise UserError(f"{spec.path}: row {row!r} and column {column!r} both name a teacher; a student has one, so "
                        "keep `teacher:` on the row or on the column.")
    ref = by_row or by_column
    return replace(ref, column=column) if ref is not None and ref.column is None else ref


def expand_student(row: str, column: str, seed: int, ref: TeacherRef, student: list[Override], where: str, *,
                   output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]) -> list[PlannedRun]:
    """The teacher's runs, then the student's search runs and final (or its single run), dependencies first."""
    from repro.methods import method_class
    from repro.sweep.expand import _resolve, _run

    teacher_runs = teacher_cell_runs(ref, seed, where, output_root=output_root, scale=scale,
                                     extra_overrides=extra_overrides)
    teacher = next(r for r in teacher_runs if r.stage in REPORTED)
    planned = [replace(r, row=row, column=column, seed=seed,
                       stage="teacher" if r.stage in REPORTED else "teacher fold") for r in teacher_runs]
    method = str(_resolve(student, "single", where)["method"]["name"])
    option = method_class(method).source_option
    if option is None:
        raise UserError(f"{where}: the row names a teacher ({ref.describe()}), but method={method} learns from no "
                        "other run; use method=distillation (teacher predictions) or method=transferred_labels "
                        "(its converged labels), or drop `teacher:`.")
    student = student + [parse_override(f"method.{option}={quote_value(teacher.run_id)}", where=where)]
    final_cfg = _resolve(student, "final", where)
    if final_cfg["method"].get("temperature") != SEARCH:
        return planned + [_run(row, column, seed, "single", None, student, (teacher.run_id,), where)]
    searches = []
    for temperature, derived in search_run_configs(final_cfg):
        overrides = student + [parse_override(o, where=where) for o in search_overrides(temperature)]
        run = _run(row, column, seed, "search", None, overrides, (teacher.run_id,), where)
        if run.run_id != run_id(derived):  # the final would look for other runs than those planned: a bug
            raise RuntimeError(f"{where}: search run T={temperature} planned as {run.run_id}, the final reads "
                               f"{run_id(derived)}")
        searches.append(run)
    final = _run(row, column, seed, "final", None, student, (teacher.run_id, *(s.run_id for s in searches)), where,
                 config=final_cfg)
    return planned + searches + [final]


def teacher_cell_runs(ref: TeacherRef, seed: int, where: str, *, output_root: str | Path, scale: Scale | None,
                      extra_overrides: Sequence[str]) -> list[PlannedRun]:
    """The referenced cell's runs of one seed, as its own sweep plans them (the reported run last)."""
    spec = _referenced_spec(ref, where)
    if seed not in spec.seeds:
        raise UserError(f"{where}: the teacher {ref.describe()} has no seed {seed} (its seeds: {spec.seeds}); a "
                        "student of seed s learns from the teacher of seed s, so give both sweeps the same seeds.")
    runs = spec.select(rows=[ref.row], columns=[ref.column], seeds=[seed]).expand(
        output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    if not runs:
        raise UserError(f"{where}: the teacher {ref.describe()} plans no run for that cell (the row does not cover "
                        f"the column: its columns are {spec.row_columns(ref.row)}).")
    return runs


def _referenced_spec(ref: TeacherRef, where: str) -> SweepSpec:
    from repro.sweep.spec import load_sweep

    key = (ref.sweep, ref.sweep.read_text())
    if key in _SPECS:
        spec = _SPECS[key]
    elif ref.sweep in _LOADING:  # a row of the file being loaded teaches another of its rows: parse, don't expand
        import yaml

        from repro.sweep.spec import parse_sweep

        spec = parse_sweep(yaml.safe_load(key[1]), ref.sweep)
    else:
        _LOADING.add(ref.sweep)
        try:
            spec = _SPECS[key] = load_sweep(ref.sweep)
        finally:
            _LOADING.discard(ref.sweep)
    for kind, name, have in (("row", ref.row, spec.rows), ("column", ref.column, spec.columns)):
        if name not in have:
            raise UserError(f"{where}: the teacher {ref.describe()} names no {kind} of {ref.sweep}; its {kind}s are: "
                            f"{', '.join(map(repr, have))}.")
    if ref.row in spec.needs:
        raise UserError(f"{where}: the teacher {ref.describe()} cannot run yet (it needs {spec.needs[ref.row]}).")
    if cell_teacher(spec, ref.row, ref.column) is not None:
        raise UserError(f"{where}: the teacher {ref.describe()} is itself a student; a teacher must be a run that "
                        "learns from no other run (chains of students are not planned).")
    return spec
