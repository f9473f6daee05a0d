"""Expand a sweep into runs: rows x columns x seeds, and for learned-labels rows the 5-fold protocol's stages.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (fold runs: the `learn` overrides, split=holdout, split.fold=k; final runs:
method=replay of the learned method, the `final` overrides, split=full), the command line's extra overrides, the
scale (optim.epochs, data.subset, data.test_subset), seed=s, and output_root / sweep.name / sweep.stage.

The fold runs of a final replay run are the ones `repro.fold_runs.fold_run_configs` derives from its config
(the replay run's own config with the learned method, split.full_train=false, split.fold=0..split.folds-1); the
expansion checks that the fold runs it plans are exactly those, so a final never waits for runs it will not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from repro.errors import UserError
from repro.fold_runs import fold_configs_with
from repro.rundir import result_config, run_id
from repro.sweep.compose import FastComposer, Override, parse_override, quote_value
from repro.sweep.spec import Part, PlannedRun, Scale, SweepSpec

_COMPOSER = FastComposer()


def expand_sweep(spec: SweepSpec, *, output_root: str | Path, scale: Scale | None = None,
                 extra_overrides: Sequence[str] = ()) -> list[PlannedRun]:
    """Every run of the sweep's runnable rows (rows with `needs` plan nothing), in row, column, seed order; a
    learned-labels cell lists its fold runs before its final run, a student cell its teacher's runs, then its
    search runs, then its final (repro/sweep/teachers.py): a run always comes after the runs it depends on."""
    from repro.sweep.teachers import cell_teacher, expand_student

    path = spec.path
    common = _parse(spec.common, f"{path}: common")
    extra = _parse(extra_overrides, "the command line's overrides")
    scaled = _parse(scale.overrides() if scale else [], "the scale options")
    where_to = [parse_override(f"output_root={quote_value(str(output_root))}", where="output_root"),
                parse_override(f"sweep.name={quote_value(spec.name)}", where=f"{path}: name")]
    columns = {c: _parse_part(p, f"{path}: columns.{c}") for c, p in spec.column_parts.items()}
    runs: list[PlannedRun] = []
    for row_name, row in spec.row_specs.items():
        if row.needs:
            continue
        row_part = _parse_part(row.part, f"{path}: rows.{row_name}")
        for column in spec.row_columns(row_name):
            col_part = columns[column]
            head = common + col_part.overrides + row_part.overrides
            learn = col_part.learn + row_part.learn
            where = f"{path} (row {row_name!r}, column {column!r})"
            teacher = cell_teacher(spec, row_name, column)
            if teacher is not None and learn:
                raise UserError(f"{where}: a cell with a teacher is a student; it cannot also learn labels (`learn:`).")
            for seed in spec.seeds:
                cell = [parse_override(f"sweep.{k}={quote_value(str(v))}", where=where) for k, v in
                        (("row", row_name), ("column", column))]  # the W&B group (never part of the run id)
                end = extra + scaled + [parse_override(f"seed={seed}", where="seeds")] + where_to + cell
                if teacher is not None:
                    runs += expand_student(row_name, column, seed, teacher, head + end, where, output_root=output_root,
                                           scale=scale, extra_overrides=extra_overrides)
                    continue
                if not learn:
                    runs.append(_run(row_name, column, seed, "single", None, head + end, (), where))
                    continue
                final_o = head + _replay_overrides(learn, where) + col_part.final + row_part.final \
                    + [parse_override("split=full", where="stage")] + end
                final_cfg = _resolve(final_o, "final", where)
                folds = []
                for fold in range(int(final_cfg["split"]["folds"])):
                    fold_o = head + learn + [parse_override("split=holdout", where="stage"),
                                             parse_override(f"split.fold={fold}", where="stage")] + end
                    folds.append(_run(row_name, column, seed, "fold", fold, fold_o, (), where))
                _check_folds_match_replay(final_cfg, folds, where)
                runs.extend(folds)
                runs.append(_run(row_name, column, seed, "final", None, final_o,
                                 tuple(f.run_id for f in folds), where, config=final_cfg))
    return runs


def _run(row: str, column: str, seed: int, stage: str, fold: int | None, overrides: list[Override],
         depends_on: tuple[str, ...], where: str, *, config: dict | None = None) -> PlannedRun:
    overrides = _dedupe(overrides + [parse_override(f"sweep.stage={stage}", where="stage")])
    if config is None:  # a final's config is resolved before its folds (it knows how many there are)
        config = _COMPOSER.resolve(overrides, where=f"{where}, {stage} run")
    return PlannedRun(run_id=run_id(config), row=row, column=column, seed=seed, stage=stage, fold=fold,
                      overrides=tuple(o.text for o in overrides), config=config, depends_on=depends_on)


def _resolve(overrides: list[Override], stage: str, where: str) -> dict:
    overrides = _dedupe(overrides + [parse_override(f"sweep.stage={stage}", where="stage")])
    return _COMPOSER.resolve(overrides, where=f"{where}, {stage} run")


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
    result = [parse_override("method=replay", where=where),
              parse_override(f"method.learn.method={quote_value(methods[-1])}", where=where),
              parse_override("method.static=false", where=where)]
    if method_overrides:
        listed = ",".join("'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'" for t in method_overrides)
        result.append(parse_override(f"method.learn.overrides=[{listed}]", where=where))
    return result


def _check_folds_match_replay(final_cfg: dict, folds: list[PlannedRun], where: str) -> None:
    """The fold runs planned here must be the ones the replay run will read (repro.fold_runs.fold_run_configs)."""
    for fold_run, expected in zip(folds, derived_fold_configs(final_cfg)):
        if fold_run.run_id != run_id(expected):
            planned, derived = _flatten(result_config(fold_run.config)), _flatten(result_config(expected))
            diff = sorted(k for k in planned.keys() | derived.keys() if planned.get(k) != derived.get(k))
            raise UserError(
                f"{where}: fold run {fold_run.fold} as planned differs from the fold run the final replay reads, in "
                f"{', '.join(diff)} (planned {[planned.get(k) for k in diff]}, replay reads "
                f"{[derived.get(k) for k in diff]}). Put overrides that are not method.* keys in `overrides:` or "
                "`common:` so that fold and final runs share them."
            )


def derived_fold_configs(final_cfg: dict) -> list[dict]:
    """What `repro.fold_runs.fold_run_configs(final_cfg)` returns, composed through the fast path (that function
    composes with Hydra once per call); tests/test_sweep_spec.py checks the two agree."""
    learn = final_cfg["method"].get("learn") or {}
    learned_o = _dedupe(_parse([f"method={learn['method']}", *(learn.get("overrides") or [])], "method.learn"))
    learned = _COMPOSER.resolve(learned_o, where="the replay's method.learn")["method"]
    return fold_configs_with(final_cfg, learned)


def _parse(texts: Sequence[str], where: str) -> list[Override]:
    return [parse_override(t, where=where) for t in texts]


class _ParsedPart:
    def __init__(self, overrides: list[Override], learn: list[Override], final: list[Override]) -> None:
        self.overrides, self.learn, self.final = overrides, learn, final


def _parse_part(part: Part, where: str) -> _ParsedPart:
    return _ParsedPart(_parse(part.overrides, where), _parse(part.learn, f"{where}.learn"),
                       _parse(part.final, f"{where}.final"))


def _dedupe(overrides: list[Override]) -> list[Override]:
    """One override per key, the last one's value, in the order the keys were last set (Hydra: last wins)."""
    last: dict[str, Override] = {}
    for o in overrides:
        last.pop(o.key, None)
        last[o.key] = o
    return list(last.values())


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
