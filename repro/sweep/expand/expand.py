"""Expand a sweep into runs: rows x columns x seeds, each cell's runs planned by its stages.

Takes a `SweepSpec` (repro/sweep/spec/), the output root, a `Scale` and the command line's overrides; returns the
`PlannedRun`s, each resolved once and validated once (repro/sweep/expand/build.py): its config is what an executor
trains, its overrides show the run and replay it with `repro train`.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (a learned-labels cell's fold and final runs: repro/sweep/stages/learn/),
the command line's extra overrides, the scale (optim.epochs, data.subset, data.test_subset), seed=s, and
output_root / sweep.name / sweep.stage.

Per seed, a cell's runs are planned by the first registered stage that plans them (`Stage.plan_seed`: a
learned-labels cell's fold runs and final replay run, repro/sweep/stages/learn/learn_runs.py); else they are one
plain run, with its K cross-validation fold runs where the row asks for out-of-sample probabilities
(`out_of_sample: {folds: K}`, derived by repro/labels/fold_runs.py; nothing waits for them, the annotator analysis
reads them).

A cell with a tuning stage (`tune:`, repro/sweep/stages/tune/tuning_runs.py) first plans its tuning runs; every run of
the cell (fold runs and final, or its single run) gets the same `tune=...` override (which runs, which keys) and
depends on them. A student cell (`teacher:`, repro/sweep/stages/teachers/teacher_runs.py) plans its teacher's runs
before its own. A registered stage with a top-level key of its own plans its runs after every cell's (`Stage.plan`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from repro.errors import UserError
from repro.labels.fold_runs import cross_validation_configs
from repro.sweep.expand.build import COMPOSER, make_run
from repro.sweep.expand.overrides import (
    Override,
    ParsedPart,
    override_value,
    parse_all,
    parse_override,
    parse_part,
    quote_value,
)
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.stages.registry import stages
from repro.sweep.stages.teachers import teacher_runs
from repro.sweep.stages.teachers.teacher_ref import TeacherRef
from repro.sweep.stages.tune.tuning_runs import plan_tuning
from repro.sweep.stages.tune_from.tune_from_runs import borrowed_tuning


def expand_sweep(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run of the sweep's runnable rows (rows with `needs` plan nothing), in row, column, seed order. A cell
    lists its tuning runs first (with a student's teachers of the tuning seeds before them), then per seed: a
    student's teacher runs, a learned-labels cell's fold runs, then its reported run: a run always comes after the
    runs it depends on. `extra_overrides` (e.g. tracker.mode=online from the command line) go to every run."""
    sweep = _Sweep(spec, output_root, scale, extra_overrides)
    runs: list[PlannedRun] = []
    for row in spec.row_specs.values():
        if row.needs:
            continue
        for column in spec.row_columns(row.name):
            runs += Cell(sweep, row.name, column).runs()
    for stage in sweep.stages:  # a registered stage that plans its own runs (repro/sweep/stages/base.py: `plan`)
        if stage.key in spec.stage_settings:
            runs += stage.plan(spec, spec.stage_settings[stage.key], list(runs))
    return runs


class _Sweep:
    """What every cell of one expansion shares: the parsed `common`, command-line and scale overrides, and where
    its runs go (output_root, sweep.name)."""

    def __init__(
        self, spec: SweepSpec, output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]
    ) -> None:
        self.spec, self.output_root, self.scale, self.extra_texts = spec, output_root, scale, extra_overrides
        self.common = parse_all(spec.common, f"{spec.path}: common")
        self.extra = parse_all(extra_overrides, "the command line's overrides")
        self.scaled = parse_all(scale.overrides() if scale else [], "the scale options")
        self.where_to = [
            parse_override(f"output_root={quote_value(str(output_root))}", where="output_root"),
            parse_override(f"sweep.name={quote_value(spec.name)}", where=f"{spec.path}: name"),
        ]
        self.columns = {c: parse_part(p, f"{spec.path}: columns.{c}") for c, p in spec.column_parts.items()}
        self.stages = stages()  # the registered stages, asked for the runs each plans (repro/sweep/stages/base.py)


class Cell:
    """One (row, column) of the sweep and the runs it plans. A registered stage may plan them (`Stage.plan_seed`,
    e.g. a learned-labels cell's, repro/sweep/stages/learn/): it reads the cell's row, column, where, head, col, own
    and learn."""

    def __init__(self, sweep: _Sweep, row: str, column: str) -> None:
        spec = sweep.spec
        self.sweep, self.row, self.column = sweep, row, column
        self.spec_row = spec.row_specs[row]
        self.where = f"{spec.path} (row {row!r}, column {column!r})"
        self.own: ParsedPart = parse_part(self.spec_row.part, f"{spec.path}: rows.{row}")
        self.col: ParsedPart = sweep.columns[column]
        self.head = sweep.common + self.col.overrides + self.own.overrides
        self.learn = self.col.learn + self.own.learn
        self.teacher: TeacherRef | None = teacher_runs.cell_teacher(spec, row, column)
        if self.teacher is not None and self.learn:
            raise UserError(
                f"{self.where}: a cell with a teacher is a student; it cannot also learn labels (`learn:`)."
            )
        self.where_cell = sweep.where_to + [
            parse_override(f"sweep.{k}={quote_value(str(v))}", where=self.where)
            for k, v in (("row", row), ("column", column))
        ]  # the W&B group, never in the run id
        self._teachers: dict[int, tuple[PlannedRun, list[PlannedRun]]] = {}

    def runs(self) -> list[PlannedRun]:
        """The cell's tuning runs (if it is tuned), then per seed its runs (a student's teacher runs first)."""
        runs, tuned, tune_ids = self._tuning()
        for seed in self.sweep.spec.seeds:
            end = self.sweep.extra + self.sweep.scaled + [parse_override(f"seed={seed}", where="seeds")]
            end += self.where_cell
            if self.teacher is not None:
                runs += self._student(seed, tuned + end, tune_ids)
                continue
            planned = self._staged(seed, tuned + end, tune_ids)
            runs += self._plain(seed, tuned + end, tune_ids) if planned is None else planned
        return runs

    def _staged(self, seed: int, end: list[Override], tune_ids: tuple[str, ...]) -> list[PlannedRun] | None:
        """The runs of `seed` as the first registered stage that plans this cell's plans them; None: none does."""
        for stage in self.sweep.stages:
            planned = stage.plan_seed(self, seed, end, tune_ids)
            if planned is not None:
                return planned
        return None

    def _tuning(self) -> tuple[list[PlannedRun], list[Override], tuple[str, ...]]:
        """(the tuning runs and the runs they learn from, the `tune=...` override of the cell's runs, the tuning
        runs' ids); nothing when the cell is not tuned."""
        tune = self.sweep.spec.cell_tune(self.row, self.column)
        if tune is not None and self.sweep.scale is not None:  # `--tune-strategy`: every stage's strategy
            tune = self.sweep.scale.tune(tune)
        if tune is None:
            return [], [], ()
        if tune.source is not None:  # another cell's tuning stage (repro/sweep/stages/tune_from/tune_from_runs.py)
            sweep = self.sweep
            borrowed, tune_override = borrowed_tuning(
                tune.source,
                self.row,
                self.column,
                self.where,
                lambda s: expand_sweep(
                    s, output_root=sweep.output_root, scale=sweep.scale, extra_overrides=sweep.extra_texts
                ),
            )
            return borrowed, [tune_override], tuple(r.run_id for r in borrowed if r.stage == "tune")
        runs: list[PlannedRun] = []
        bases = {}
        for seed in tune.seeds:
            overrides, deps, planned = self._base(seed)
            runs += planned
            bases[seed] = (overrides, deps)
        tune_runs, tune_override = plan_tuning(
            tune,
            self.row,
            self.column,
            bases,
            extra=self.sweep.extra,
            scaled=self.sweep.scaled,
            where_to=self.where_cell,
            where=self.where,
        )
        return runs + tune_runs, [tune_override], tuple(r.run_id for r in tune_runs)

    def _base(self, seed: int) -> tuple[list[Override], tuple[str, ...], list[PlannedRun]]:
        """The cell's own overrides for a seed as it trains (before the command line's), the runs it depends on, and
        the teacher's runs to plan first (students only)."""
        if self.teacher is None:
            for stage in self.sweep.stages:  # a stage that plans the cell's runs says how its tuning runs train
                base = stage.tuning_base(self)
                if base is not None:
                    return base, (), []
            return self.head, (), []
        teacher, planned = self._teacher_runs(seed)
        source = teacher_runs.teacher_override(COMPOSER.choices(self.head)["method"], teacher, self.teacher, self.where)
        return self.head + [source], (teacher.run_id,), planned

    def _teacher_runs(self, seed: int) -> tuple[PlannedRun, list[PlannedRun]]:
        """(the teacher run of `seed`, every run of its cell), expanded once by the teacher's own sweep file."""
        if seed not in self._teachers:
            assert self.teacher is not None
            spec = teacher_runs.referenced_spec(self.teacher, seed, self.where)
            runs = expand_sweep(
                spec, output_root=self.sweep.output_root, scale=self.sweep.scale, extra_overrides=self.sweep.extra_texts
            )
            self._teachers[seed] = teacher_runs.as_teacher(runs, self.row, self.column, seed, self.teacher, self.where)
        return self._teachers[seed]

    def _student(self, seed: int, end: list[Override], tune_ids: tuple[str, ...]) -> list[PlannedRun]:
        own, deps, planned = self._base(seed)
        run = make_run(self.row, self.column, seed, "single", None, own + end, deps + tune_ids, self.where)
        return planned + [run]

    def _plain(self, seed: int, end: list[Override], tune_ids: tuple[str, ...]) -> list[PlannedRun]:
        """The cell's run of `seed`, and its cross-validation fold runs when the row asks for out-of-sample
        probabilities in this column."""
        run = make_run(self.row, self.column, seed, "single", None, self.head + end, tune_ids, self.where)
        out_of_sample = self.spec_row.out_of_sample
        if out_of_sample is None or not out_of_sample.covers(self.column):
            return [run]
        return [run, *self._cross_validation_folds(run, self.head + end, out_of_sample.folds)]

    def _cross_validation_folds(self, run: PlannedRun, own: list[Override], folds: int) -> list[PlannedRun]:
        """The K fold runs of `run` whose held-out predictions are out-of-sample (repro/labels/fold_runs.py)."""
        planned = []
        for fold, config in enumerate(cross_validation_configs(run.config, folds)):
            split = [
                parse_override(f"split.{key}={override_value(config['split'][key])}", where="stage")
                for key in ("meta_fraction", "folds", "fold", "full_train")
            ]
            planned.append(
                make_run(
                    self.row,
                    self.column,
                    run.seed,
                    "fold",
                    fold,
                    own + split,
                    run.depends_on,
                    self.where,
                    config=config,
                )
            )
        return planned
