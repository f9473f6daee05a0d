"""Expand a sweep into runs: rows x columns x seeds, and for learned-labels rows the 5-fold protocol's stages.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (fold runs: the `learn` overrides, split=holdout, split.fold=k; final runs:
method=replay of the learned method, the `final` overrides, split=full), the command line's extra overrides, the
scale (optim.epochs, data.subset, data.test_subset), seed=s, and output_root / sweep.name / sweep.stage.

The fold runs of a final replay run are the ones `repro.labels.fold_runs.fold_run_configs` derives from its config
(the replay run's own config with the learned method, split.full_train=false, split.fold=0..split.folds-1); the
expansion checks that the fold runs it plans are exactly those, so a final never waits for runs it will not read.

A cell with a tuning stage (`tune:`, repro/sweep/tune.py) first plans its tuning runs; every run of the cell (fold
runs and final, or its single run) gets the same `tune=...` override (which runs, which keys) and depends on them.
The fold runs the replay final derives carry that override too (it is part of the final's config).

A row with `out_of_sample: {folds: K}` plans, after each of its runs (in its `columns`, when it names some), the
K cross-validation fold runs that `repro.labels.out_of_sample.cross_validation_configs` derives from that run's
config (stage "fold"; the expansion checks the two agree); the run does not wait for them, the annotator analysis
reads them (analysis/annotator_table.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from repro.errors import UserError
from repro.labels.fold_runs import fold_configs_with
from repro.labels.out_of_sample import cross_validation_configs, fold_split
from repro.runs.rundir import flatten, result_config, run_id
from repro.sweep import teachers
from repro.sweep.build import COMPOSER, dedupe, make_run, parse_all, parse_part, resolve
from repro.sweep.compose import Override, parse_override, quote_value
from repro.sweep.model import PlannedRun, Scale, SweepSpec
from repro.sweep.tune import plan_tuning


def expand_sweep(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run of the sweep's runnable rows (rows with `needs` plan nothing), in row, column, seed order. A cell
    lists its tuning runs first (with a student's teachers of the tuning seeds before them), then per seed: a
    student's teacher runs, a learned-labels cell's fold runs, then its reported run: a run always comes after the
    runs it depends on. `extra_overrides` (e.g. tracker.mode=online from the command line) go to every run."""
    path = spec.path
    common = parse_all(spec.common, f"{path}: common")
    extra = parse_all(extra_overrides, "the command line's overrides")
    scaled = parse_all(scale.overrides() if scale else [], "the scale options")
    where_to = [
        parse_override(f"output_root={quote_value(str(output_root))}", where="output_root"),
        parse_override(f"sweep.name={quote_value(spec.name)}", where=f"{path}: name"),
    ]
    columns = {c: parse_part(p, f"{path}: columns.{c}") for c, p in spec.column_parts.items()}
    runs: list[PlannedRun] = []
    for row_name, row in spec.row_specs.items():
        if row.needs:
            continue
        row_part = parse_part(row.part, f"{path}: rows.{row_name}")
        for column in spec.row_columns(row_name):
            col_part = columns[column]
            head = common + col_part.overrides + row_part.overrides
            learn = col_part.learn + row_part.learn
            where = f"{path} (row {row_name!r}, column {column!r})"
            ref = teachers.cell_teacher(spec, row_name, column)
            if ref is not None and learn:
                raise UserError(f"{where}: a cell with a teacher is a student; it cannot also learn labels (`learn:`).")
            cell = _Cell(row_name, column, where, output_root, scale, extra_overrides)
            where_cell = where_to + [
                parse_override(f"sweep.{k}={quote_value(str(v))}", where=where)
                for k, v in (("row", row_name), ("column", column))
            ]  # the W&B group, never in the run id

            def base(seed: int) -> tuple[list[Override], tuple[str, ...], list[PlannedRun]]:
                """The cell's own overrides for a seed (before the command line's), its dependencies, and the
                teacher's runs to plan first (students only)."""
                if ref is None:
                    return head + (learn + [parse_override("split=holdout", where="stage")] if learn else []), (), []
                teacher, planned = cell.teacher_runs(ref, seed)
                return head + [teachers.teacher_override(head, teacher, ref, where)], (teacher.run_id,), planned

            tune = scale.tune(spec.cell_tune(row_name, column)) if scale else spec.cell_tune(row_name, column)
            tuned: list[Override] = []
            tune_ids: tuple[str, ...] = ()
            if tune is not None:
                bases = {}
                for seed in tune.seeds:
                    overrides, deps, planned = base(seed)
                    runs += planned
                    bases[seed] = (overrides, deps)
                tune_runs, tune_override = plan_tuning(
                    tune, row_name, column, bases, extra=extra, scaled=scaled, where_to=where_cell, where=where
                )
                runs += tune_runs
                tuned, tune_ids = [tune_override], tuple(r.run_id for r in tune_runs)
            for seed in spec.seeds:
                end = extra + scaled + [parse_override(f"seed={seed}", where="seeds")] + where_cell
                if ref is not None:
                    own, deps, planned = base(seed)
                    runs += planned
                    runs.append(
                        make_run(row_name, column, seed, "single", None, own + tuned + end, deps + tune_ids, where)
                    )
                    continue
                if not learn:
                    single = make_run(row_name, column, seed, "single", None, head + tuned + end, tune_ids, where)
                    runs.append(single)
                    if row.out_of_sample and row.out_of_sample.covers(column):
                        runs += _out_of_sample_folds(single, head + tuned + end, row.out_of_sample.folds, where)
                    continue
                final_o = (
                    head
                    + _replay_overrides(learn, where)
                    + col_part.final
                    + row_part.final
                    + [parse_override("split=full", where="stage")]
                    + tuned
                    + end
                )
                final_cfg = resolve(final_o, "final", where)
                folds = []
                for fold in range(int(final_cfg["split"]["folds"])):
                    fold_o = (
                        head
                        + learn
                        + [
                            parse_override("split=holdout", where="stage"),
                            parse_override(f"split.fold={fold}", where="stage"),
                        ]
                        + tuned
                        + end
                    )
                    folds.append(make_run(row_name, column, seed, "fold", fold, fold_o, tune_ids, where))
                _check_folds_match_replay(final_cfg, folds, where)
                runs.extend(folds)
                runs.append(
                    make_run(
                        row_name,
                        column,
                        seed,
                        "final",
                        None,
                        final_o,
                        tuple(f.run_id for f in folds) + tune_ids,
                        where,
                        config=final_cfg,
                    )
                )
    return runs


class _Cell:
    """A student cell's teacher runs per seed, expanded once by the teacher's own sweep file."""

    def __init__(
        self,
        row: str,
        column: str,
        where: str,
        output_root: str | Path,
        scale: Scale | None,
        extra_overrides: Sequence[str],
    ) -> None:
        self.row, self.column, self.where = row, column, where
        self.output_root, self.scale, self.extra = output_root, scale, extra_overrides
        self._seen: dict[int, tuple[PlannedRun, list[PlannedRun]]] = {}

    def teacher_runs(self, ref: teachers.TeacherRef, seed: int) -> tuple[PlannedRun, list[PlannedRun]]:
        if seed not in self._seen:
            spec = teachers.referenced_spec(ref, seed, self.where)
            runs = expand_sweep(spec, output_root=self.output_root, scale=self.scale, extra_overrides=self.extra)
            self._seen[seed] = teachers.as_teacher(runs, self.row, self.column, seed, ref, self.where)
        return self._seen[seed]


def _out_of_sample_folds(single: PlannedRun, own: list[Override], folds: int, where: str) -> list[PlannedRun]:
    """The cross-validation fold runs of `single` (repro/labels/out_of_sample.py), checked against the ones the
    analysis derives from its config, so that it finds exactly the runs planned here."""
    planned = []
    for fold, expected in enumerate(cross_validation_configs(single.config, folds)):
        split = fold_split({}, folds, fold)
        fold_o = own + [
            parse_override(f"split.{key}={str(split[key]).lower()}", where="stage")
            for key in ("meta_fraction", "folds", "fold", "full_train")
        ]
        run = make_run(single.row, single.column, single.seed, "fold", fold, fold_o, single.depends_on, where)
        if run.run_id != run_id(expected):
            planned_flat, derived = flatten(result_config(run.config)), flatten(result_config(expected))
            diff = sorted(k for k in planned_flat.keys() | derived.keys() if planned_flat.get(k) != derived.get(k))
            raise UserError(f"{where}: out-of-sample fold run {fold} differs from the one derived in {diff}.")
        planned.append(run)
    return planned


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


def _check_folds_match_replay(final_cfg: dict, folds: list[PlannedRun], where: str) -> None:
    """The fold runs planned here must be the ones the replay run will read
    (repro.labels.fold_runs.fold_run_configs)."""
    for fold_run, expected in zip(folds, derived_fold_configs(final_cfg)):
        if fold_run.run_id != run_id(expected):
            planned, derived = flatten(result_config(fold_run.config)), flatten(result_config(expected))
            diff = sorted(k for k in planned.keys() | derived.keys() if planned.get(k) != derived.get(k))
            raise UserError(
                f"{where}: fold run {fold_run.fold} as planned differs from the fold run the final replay reads, in "
                f"{', '.join(diff)} (planned {[planned.get(k) for k in diff]}, replay reads "
                f"{[derived.get(k) for k in diff]}). Put overrides that are not method.* keys in `overrides:` or "
                "`common:` so that fold and final runs share them."
            )


def derived_fold_configs(final_cfg: dict) -> list[dict]:
    """What `repro.labels.fold_runs.fold_run_configs(final_cfg)` returns, composed through the fast path (that function
    composes with Hydra once per call); tests/test_sweep_spec.py checks the two agree."""
    learn = final_cfg["method"].get("learn") or {}
    learned_o = dedupe(parse_all([f"method={learn['method']}", *(learn.get("overrides") or [])], "method.learn"))
    learned = COMPOSER.resolve(learned_o, where="the replay's method.learn")["method"]
    return fold_configs_with(final_cfg, learned)
