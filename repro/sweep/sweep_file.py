"""A sweep file (sweeps/tableN.yaml) parsed: one paper table as rows x columns x seeds of Hydra overrides.

Takes a sweep file's path (`load_sweep`); returns a `SweepSpec` (repro/sweep/spec/model.py), its structure checked
with errors that name the key and the file. Its overrides are composed and checked when it is expanded
(repro/sweep/expand/).

The file format (docs/cluster.md has the full description)::

    name: table1                 # optional; default: the file name without .yaml
    table: 1                     # the paper table (paper_tables/paper/table1.csv)
    metric: final_test_acc       # the summary.json key the table reports
    seeds: [0, 1, 2]
    common: [split=full]         # overrides of every run
    columns:                     # named as the paper prints them
      CIFAR100/ResNet18: [data=cifar100, model=resnet18]
      Dynamic=no/Class: {final: [method.static=true]}    # mapping form: overrides | learn | final
    rows:
      Baseline: [method=baseline]                        # one run per (column, seed)
      Ours (Class): {learn: [method=class_labels]}       # split.folds fold runs + one final replay run
      Ours (Labels): {needs: "a distillation method"}    # not runnable yet: `repro sweep` refuses it
      Distilled:                                         # a student of another table's run (a teacher)
        overrides: [method=distillation]
        teacher: {sweep: table1.yaml, row: Baseline, column: CIFAR100/ResNet18}
      One-hot (cleanlab):                                # + 5 cross-validation fold runs (stage "fold")
        overrides: [method=baseline]
        out_of_sample: {folds: 5}
      Ours (Instance):                                   # tuned: repro/sweep/stages/tune/tune_spec.py
        learn: [method=instance_labels]
        tune: {grid: {method.label_lr: [25, 50, 100, 200]}, select: final_val_acc}

A row with `learn` is a learned-labels row: fold runs (the learn overrides, split=holdout, split.fold=0..folds-1)
and a final run (method=replay of the same method, split=full) that waits for them. A row (or column) with
`teacher` is a student: the referenced cell's run of the same seed (and its folds) is planned as its teacher
(repro/sweep/stages/teachers/teacher_runs.py). A row with `out_of_sample: {folds: K}` (optionally `columns: [...]`:
only those) also
plans, per (column, seed), the K cross-validation fold runs whose held-out predictions are out-of-sample
probabilities for every training sample of its run (cleanlab; repro/sweep/stages/out_of_sample/out_of_sample_spec.py,
repro/labels/out_of_sample.py); nothing waits for them. Any other row is one run per (column, seed). A row may
restrict itself to some columns with `columns: [...]`. A row, column or the whole file with `tune:` first plans
tuning runs, which the cell's runs depend on (repro/sweep/stages/tune/tuning_runs.py). The parsed file's data classes:
repro/sweep/spec/model.py; expansion into runs: repro/sweep/expand/expand.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from repro.checkout import bundled, shipped_path
from repro.errors import UserError
from repro.runs.metrics import METRICS
from repro.runs.yaml_text import load_yaml
from repro.sweep.protocol.base import KeyAt, Place, Stage
from repro.sweep.protocol.registry import stages
from repro.sweep.spec.model import Part, RowSpec, SweepSpec

# The file's own keys; every other key is a registered stage's, read by the stage (`Stage.read`) where its
# `places` allow it (repro/sweep/protocol/registry.py: tune, teacher, out_of_sample, gate, ...).
_TOP_KEYS = ("name", "table", "title", "metric", "seeds", "common", "columns", "rows", "not_run", "notes")
# A row's or column's mapping form: its override lists, kept together as its `Part`, which the expansion composes
# (every run's overrides; a learned-labels cell's fold runs' `learn` and its final run's `final`, read by the learn
# stage from the Part, repro/sweep/stages/learn/; analysis/figures/where.py matches all three); then a row's own.
_PART_KEYS = ("overrides", "learn", "final")
_ROW_KEYS = (*_PART_KEYS, "columns", "needs")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep file (a path, or the name of one the package ships: `sweep_file_path`) and check its structure.
    Its overrides are composed and checked when it is expanded (repro/sweep/expand/), which planning does before
    anything is written or submitted."""
    path = sweep_file_path(path)
    try:
        raw = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    return parse_sweep(raw, path)


def sweep_file_path(value: str | Path) -> Path:
    """The sweep file `value` names: a path (sweeps/table1.yaml is the package's own from any directory), or the name
    of a bundled sweep file without its folder and .yaml (`table1`, `demo/table1`, `mnist1d/table6`)."""
    path = shipped_path(value)
    if path.is_file():
        return path
    name = Path(value)
    named = bundled("sweeps") / f"{value}.yaml"
    if not (name.is_absolute() or ".." in name.parts or name.suffix in (".yaml", ".yml")) and named.is_file():
        return named
    names = sorted(p.stem for p in bundled("sweeps").glob("*.yaml"))
    raise UserError(
        f"No sweep file {path}: not a file, nor the name of a bundled sweep file ({', '.join(names)}; the digits "
        "demo's demo/table1 ... and MNIST-1D's mnist1d/table1 ...). Give a sweep file's path or one of those names."
    )


def parse_sweep(raw: Any, path: Path) -> SweepSpec:
    """The sweep file's structure, with errors that name the key and the file (overrides are checked later)."""
    if not isinstance(raw, Mapping):
        raise UserError(
            f"{path}: a sweep file is a mapping with keys {', '.join((*_TOP_KEYS, *_keys(stages(), Place.FILE)))}; "
            f"got {type(raw).__name__}."
        )
    registered = stages()
    _no_unknown(raw, (*_TOP_KEYS, *_keys(registered, Place.FILE)), path, "the top level")
    for key in ("metric", "seeds", "columns", "rows"):
        if key not in raw:
            raise UserError(f"{path}: the key {key!r} is missing; a sweep file needs metric, seeds, columns and rows.")
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise UserError(
            f"{path}: name={name!r} must be a word of letters, digits, '-', '_' or '.' (it names "
            "<output_root>/sweeps/<name>/ and the W&B group)."
        )
    metric = raw["metric"]
    if metric not in METRICS:
        raise UserError(f"{path}: metric={metric!r} is not a summary.json key; use one of {', '.join(METRICS)}.")
    seeds = raw["seeds"]
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
        or len(set(seeds)) != len(seeds)
    ):
        raise UserError(f"{path}: seeds={seeds!r} must be a list of distinct whole numbers, e.g. [0, 1, 2].")
    table = raw.get("table")
    if table is not None and (not isinstance(table, int) or isinstance(table, bool)):
        raise UserError(f"{path}: table={table!r} must be the paper's table number, e.g. 1.")
    common = _override_list(raw.get("common", []), path, "common")
    columns = _named_mapping(raw["columns"], path, "columns")
    column_keys = (*_PART_KEYS, *_keys(registered, Place.COLUMN))
    column_parts = {c: _part(v, path, f"columns.{c}", column_keys) for c, v in columns.items()}
    rows = _named_mapping(raw["rows"], path, "rows")
    at = KeyAt(path, "", Place.FILE, tuple(seeds), tuple(column_parts), tuple(rows))
    column_settings = {
        c: _settings(registered, v, replace(at, where=f"columns.{c}", place=Place.COLUMN))
        for c, v in columns.items()
        if isinstance(v, Mapping)
    }
    row_specs = {r: _row(r, v, replace(at, where=f"rows.{r}", place=Place.ROW), registered) for r, v in rows.items()}
    not_run = raw.get("not_run") or {}
    if not isinstance(not_run, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in not_run.items()
    ):
        raise UserError(
            f"{path}: not_run must map a paper row the sweep does not run to why, e.g. "
            '{MentorNet: "needs a pretrained MentorNet"}; got {not_run!r}.'
        )
    clash = sorted(set(not_run) & set(row_specs))
    if clash:
        raise UserError(
            f"{path}: row(s) {', '.join(map(repr, clash))} are both run (rows) and not run (not_run); "
            "remove them from one of the two."
        )
    return SweepSpec(
        path=path,
        name=name,
        metric=metric,
        seeds=list(seeds),
        common=common,
        column_parts=column_parts,
        row_specs=row_specs,
        table=table,
        title=str(raw.get("title", "")),
        not_run=dict(not_run),
        column_settings={c: v for c, v in column_settings.items() if v},
        notes=_notes(raw.get("notes"), path),
        stage_settings={
            s.key: s.read(raw[s.key], replace(at, where=s.key))
            for s in registered
            if Place.FILE in s.places and raw.get(s.key) is not None
        },
    )


def _keys(registered: list[Stage], place: Place) -> tuple[str, ...]:
    """The keys of the registered stages whose key may stand at `place`."""
    return tuple(s.key for s in registered if place in s.places)


def _settings(registered: list[Stage], mapping: Mapping[str, Any], at: KeyAt) -> dict[str, Any]:
    """A row's or column's stage keys (`at.where` names the row or column), each read by its stage."""
    return {
        s.key: s.read(mapping[s.key], replace(at, where=f"{at.where}.{s.key}", siblings=mapping))
        for s in registered
        if at.place in s.places and s.key in mapping
    }


def _notes(value: Any, path: Path) -> tuple[str, ...]:
    """`notes:` lines printed under the rendered table."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UserError(f"{path}: notes must be a list of sentences printed under the table; got {value!r}.")
    return tuple(" ".join(v.split()) for v in value)


def _row(name: str, value: Any, at: KeyAt, registered: list[Stage]) -> RowSpec:
    path, where, columns = at.path, at.where, list(at.columns)
    part = _part(value, path, where, (*_ROW_KEYS, *_keys(registered, Place.ROW)))
    restrict = None
    needs = None
    settings: dict[str, Any] = {}
    if isinstance(value, Mapping):
        if "columns" in value:
            restrict = value["columns"]
            if not isinstance(restrict, list) or not restrict:
                raise UserError(f"{path}: {where}.columns must be a non-empty list of column names.")
            unknown = [c for c in restrict if c not in columns]
            if unknown:
                raise UserError(
                    f"{path}: {where}.columns names {unknown}, which are not columns of this sweep "
                    f"({', '.join(columns)})."
                )
            restrict = tuple(restrict)
        if "needs" in value:
            needs = value["needs"]
            if not isinstance(needs, str) or not needs.strip():
                raise UserError(f"{path}: {where}.needs must say, in words, what the row needs that does not exist.")
    if needs is None and not (part.overrides or part.learn):
        raise UserError(
            f"{path}: {where} has no overrides; give a list (e.g. [method=baseline]), a mapping with "
            "`learn:` (learned labels), or `needs:` (not runnable yet)."
        )
    if part.final and not part.learn:
        raise UserError(f"{path}: {where}.final only applies to learned-labels rows (rows with `learn:`).")
    if isinstance(value, Mapping):
        settings = _settings(registered, value, at)
    return RowSpec(name=name, part=part, columns=restrict, needs=needs, settings=settings)


def _part(value: Any, path: Path, where: str, allowed: Iterable[str]) -> Part:
    if isinstance(value, list):
        return Part(overrides=_override_list(value, path, where))
    if isinstance(value, Mapping):
        _no_unknown(value, tuple(allowed), path, where)
        return Part(**{k: _override_list(value.get(k, []), path, f"{where}.{k}") for k in _PART_KEYS})
    raise UserError(
        f"{path}: {where} must be a list of overrides or a mapping with keys {', '.join(allowed)}; got {value!r}."
    )


def _override_list(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(
            f"{path}: {where} must be a list of override strings such as [model=resnet18, "
            f"optim.lr=0.1]; got {value!r}. Quote an override that YAML would read otherwise."
        )
    return tuple(value)


def _named_mapping(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise UserError(
            f"{path}: {where} must be a non-empty mapping of names (as the paper prints them) to overrides."
        )
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise UserError(f"{path}: {where} has names {bad} that are not strings; quote them.")
    return dict(value)


def _no_unknown(mapping: Mapping, allowed: tuple[str, ...], path: Path, where: str) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise UserError(
            f"{path}: unknown key {unknown[0]!r} in {where}; the keys allowed there are {', '.join(allowed)}."
        )
