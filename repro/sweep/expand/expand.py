"""Expand a sweep into runs: rows x columns x seeds, and for learned-labels rows the 5-fold protocol's stages.

Takes a `SweepSpec` (repro/sweep/spec/), the output root, a `Scale` and the command line's overrides; returns the
`PlannedRun`s, each resolved once and validated once (repro/sweep/expand/build.py): its config is what an executor
trains, its overrides show the run and replay it with `repro train`.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (fold runs: the `learn` overrides, split=holdout, split.fold=k; final runs:
method=replay of the learned method, the `final` overrides, split=full), the command line's extra overrides, the
scale (optim.epochs, data.subset, data.test_subset), seed=s, and output_root / sweep.name / sweep.stage.

Runs derived from another run take their configs from the one module that derives them, repro/labels/fold_runs.py:
a final replay run's fold runs (the ones it reads when it trains) and a plain run's K cross-validation fold runs
(`out_of_sample: {folds: K}`; nothing waits for them, the annotator analysis reads them).

A cell with a tuning stage (`tune:`, repro/sweep/stages/tune/tuning_runs.py) first plans its tuning runs; every run of
the cell
(fold runs and final, or its single run) gets the same `tune=...` override (which runs, which keys) and depends on
them. A student cell (`teacher:`, repro/sweep/stages/teachers/teacher_runs.py) plans its teacher's runs before its own.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from repro.errors import UserError
from repro.labels.fold_runs import cross_validation_configs, fold_configs_with
from repro.sweep.expand.build import COMPOSER, make_run
from repro.sweep.expand.overrides import (
    Override,
    ParsedPart,
    dedupe,
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
            runs += _Cell(sweep, row.name, column).runs()
    for stage in stages():  # a registered stage that plans its own runs (repro/sweep/stages/base.py: `plan`)
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


class _Cell:
    """One (row, column) of the sweep and the runs it plans."""

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
            elif self.learn:
                runs += self._learned(seed, tuned + end, tune_ids)
            else:
                runs += self._plain(seed, tuned + end, tune_ids)
        return runs

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
            stage = [parse_override("split=holdout", where="stage")] if self.learn else []
            return self.head + self.learn + stage, (), []
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

    def _learned(self, seed: int, end: list[Override], tune_ids: tuple[str, ...]) -> list[PlannedRun]:
        """The 5-fold protocol: the final replay run, resolved first, and the fold runs derived from its config
        (repro/labels/fold_runs.py): the very runs it reads. Listed folds first."""
        final_o = self.head + _replay_overrides(self.learn, self.where) + self.col.final + self.own.final
        final_o += [parse_override("split=full", where="stage")] + end
        final = make_run(self.row, self.column, seed, "final", None, final_o, tune_ids, self.where)
        learn = final.config["method"]["learn"]
        learned_o = dedupe(parse_all([f"method={learn['method']}", *(learn.get("overrides") or [])], "method.learn"))
        learned = COMPOSER.compose(learned_o, where=f"{self.where}: the replay's method.learn")["method"]
        fold_head = self.head + self.learn + [parse_override("split=holdout", where="stage")]
        folds = []
        for fold, config in enumerate(fold_configs_with(final.config, learned)):
            fold_o = fold_head + [parse_override(f"split.fold={fold}", where="stage")] + end
            fold_o += _learn_form(learn, learned, config)
            folds.append(
                make_run(self.row, self.column, seed, "fold", fold, fold_o, tune_ids, self.where, config=config)
            )
        return [*folds, replace(final, depends_on=tuple(f.run_id for f in folds) + tune_ids)]


def _learn_form(learn: dict, learned: dict, fold_config: dict) -> list[Override]:
    """The overrides a fold run's config takes from its replay's `method.learn` (its epochs, its look-ahead form),
    so that `repro train` with the fold run's overrides gives its config."""
    texts = []
    if learn.get("epochs") is not None:
        texts.append(f"optim.epochs={int(learn['epochs'])}")
    form = fold_config["method"].get("lookahead_weight_decay")
    if form is not None and form != learned.get("lookahead_weight_decay"):
        texts.append(f"method.lookahead_weight_decay={override_value(form)}")
    return parse_all(texts, "method.learn")


def _replay_overrides(learn: list[Override], where: str) -> list[Override]:
    """The final run replays what the fold runs learned: method=replay naming their method and method.* overrides."""
    methods = [o.value for o in learn if o.is_group and o.key == "method"]
    if not methods:
        raise UserError(f"{where}: `learn` must select the label-learning method, e.g. learn: [method=class_labels].")
    others = [o for o in learn if not (o.is_group and o.key == "method")]
    bad = [o.text for o in others if not o.key.startswith("method.")]
    if bad:
        raise UserError(
            f"{where}: `learn` overrides {bad} are not method.* keys. The final replay run derives its fold runs "
            "from its own config plus the learned method's method.* overrides, so anything else (data, model, "
            "optim, split, ...) belongs in `overrides:` or `common:`, where it applies to fold and final runs alike."
        )
    method_overrides = list(dict((o.key, o.text) for o in others).values())
    result = [
        parse_override("method=replay", where=where),
        parse_override(f"method.learn.method={quote_value(methods[-1])}", where=where),
        parse_override("method.static=false", where=where),
    ]
    if method_overrides:
        listed = ",".join("'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'" for t in method_overrides)
        result.append(parse_override(f"method.learn.overrides=[{listed}]", where=where))
    return result
