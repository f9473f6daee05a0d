"""A sweep file (sweeps/tableN.yaml) parsed: one paper table as rows x columns x seeds of Hydra overrides.

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
      Ours (Instance):                                   # tuned: repro/sweep/tune_spec.py
        learn: [method=instance_labels]
        tune: {grid: {method.label_lr: [25, 50, 100, 200]}, select: final_val_acc}

A row with `learn` is a learned-labels row: fold runs (the learn overrides, split=holdout, split.fold=0..folds-1)
and a final run (method=replay of the same method, split=full) that waits for them. A row (or column) with
`teacher` is a student: the referenced cell's run of the same seed (and its folds) is planned as its teacher
(repro/sweep/teachers.py). A row with `out_of_sample: {folds: K}` (optionally `columns: [...]`: only those) also
plans, per (column, seed), the K
cross-validation fold runs whose held-out predictions are out-of-sample probabilities for every training sample of
its run (cleanlab; repro/labels/out_of_sample.py); nothing waits for them. Any other row is one run per
(column, seed). A row may restrict itself to some columns
with `columns: [...]`. A row, column or the whole file with `tune:` first plans tuning runs, which the cell's runs
depend on (repro/sweep/tune.py). Expansion into runs: repro/sweep/expand.py; `load_sweep`: repro/sweep/spec.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from repro.errors import UserError
from repro.sweep.teacher_ref import TeacherRef, parse_teacher
from repro.sweep.tune_spec import TuneSpec, parse_tune

# "tune": a tuning run of a cell (repro/sweep/tune.py); "teacher" / "teacher fold" / "teacher tune": another
# table's run (its folds, its tuning runs) a student learns from. Tables report "single" and "final" runs only.
STAGES = ("tune", "single", "fold", "final", "teacher", "teacher fold", "teacher tune")
# Keys of summary.json a table can report (repro/train.py `summarise`).
METRICS = ("final_test_acc", "test_acc_at_best_val", "final_val_acc", "best_val_acc", "final_train_acc")
_TOP_KEYS = ("name", "table", "title", "metric", "seeds", "common", "columns", "rows", "not_run", "tune")
_PART_KEYS = ("overrides", "learn", "final")
_ROW_KEYS = (*_PART_KEYS, "columns", "needs", "teacher", "tune", "out_of_sample")
_COLUMN_KEYS = (*_PART_KEYS, "teacher", "tune")
_UNSET = object()


@dataclass(frozen=True)
class Scale:
    """Shrink every run of a sweep (demo, tests): fewer epochs, a stratified subset of the train / test data."""

    epochs: int | None = None
    subset: int | None = None
    test_subset: int | None = None

    def overrides(self) -> list[str]:
        keys = (("optim.epochs", self.epochs), ("data.subset", self.subset), ("data.test_subset", self.test_subset))
        for key, value in keys:
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UserError(f"Scale: {key}={value!r} must be a positive whole number (or None for the paper's).")
        return [f"{key}={value}" for key, value in keys if value is not None]


@dataclass(frozen=True)
class PlannedRun:
    """One run of an expanded sweep. The same run (same run_id) may serve several cells, e.g. the fold runs of
    Table 3's static and dynamic replays; it is submitted once."""

    run_id: str
    row: str
    column: str
    seed: int
    stage: str  # one of STAGES
    fold: int | None
    overrides: tuple[str, ...]  # Hydra overrides that produce `config` (incl. output_root, sweep.name/stage)
    config: dict = field(compare=False, repr=False)  # the resolved config (plain dict)
    depends_on: tuple[str, ...] = ()  # run ids that must be done first (a final <- its folds)


@dataclass(frozen=True)
class Part:
    """Overrides of a row or column: for every stage, for the fold runs only, for the final replay run only."""

    overrides: tuple[str, ...] = ()
    learn: tuple[str, ...] = ()
    final: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutOfSample:
    """A row's `out_of_sample`: `folds` cross-validation fold runs per run of the row, in `columns` (None: all)."""

    folds: int
    columns: tuple[str, ...] | None = None

    def covers(self, column: str) -> bool:
        return self.columns is None or column in self.columns


@dataclass(frozen=True)
class RowSpec:
    name: str
    part: Part
    columns: tuple[str, ...] | None = None  # None: every column of the sweep
    needs: str | None = None  # set: the row needs a method that does not exist yet
    teacher: TeacherRef | None = None  # set: the row's runs are students of this cell's runs
    tune: Any = _UNSET  # TuneSpec, None (`tune: null`: no tuning) or unset (the file's)
    out_of_sample: OutOfSample | None = None  # set: cross-validation fold runs per run (repro/labels/out_of_sample.py)

    @property
    def learned(self) -> bool:
        return bool(self.part.learn)


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file. `repro.sweep.spec.expand_sweep` turns it into runs."""

    path: Path
    name: str
    metric: str
    seeds: list[int]
    common: tuple[str, ...]
    column_parts: dict[str, Part]
    row_specs: dict[str, RowSpec]
    table: int | None = None
    title: str = ""
    not_run: dict[str, str] = field(default_factory=dict)  # paper rows the sweep does not run -> why (tables show it)
    column_teachers: dict[str, TeacherRef] = field(default_factory=dict)  # columns whose runs are students
    column_tunes: dict[str, TuneSpec] = field(default_factory=dict)  # columns that tune their cells
    tune: TuneSpec | None = None  # the file's (rows without their own)

    @property
    def rows(self) -> list[str]:
        """Every row, in the paper's order (rows that `needs` something included)."""
        return list(self.row_specs)

    @property
    def columns(self) -> list[str]:
        return list(self.column_parts)

    @property
    def needs(self) -> dict[str, str]:
        """Rows that cannot run yet -> what they need. The expansion plans no runs for them."""
        return {name: r.needs for name, r in self.row_specs.items() if r.needs}

    def row_columns(self, row: str) -> list[str]:
        spec = self.row_specs[row]
        return [c for c in self.columns if spec.columns is None or c in spec.columns]

    def select(
        self,
        *,
        rows: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        seeds: Sequence[int] | None = None,
    ) -> SweepSpec:
        """The same sweep restricted to some rows / columns / seeds (each must exist)."""

        def pick(kind: str, wanted: Sequence[Any] | None, have: list[Any]) -> list[Any]:
            if wanted is None:
                return have
            unknown = [w for w in wanted if w not in have]
            if unknown:
                raise UserError(
                    f"{self.path}: no {kind} {', '.join(map(repr, unknown))} in sweep {self.name!r}; its {kind}s "
                    f"are: {', '.join(map(repr, have))}."
                )
            return [h for h in have if h in wanted]

        keep_rows = pick("row", rows, self.rows)
        keep_cols = pick("column", columns, self.columns)
        return replace(
            self,
            row_specs={r: self.row_specs[r] for r in keep_rows},
            column_parts={c: self.column_parts[c] for c in keep_cols},
            seeds=pick("seed", seeds, self.seeds),
        )

    def cell_tune(self, row: str, column: str) -> TuneSpec | None:
        """The tuning stage of a cell: its row's (`tune: null` opts out), else its column's, else the file's."""
        own = self.row_specs[row].tune
        if own is not _UNSET:
            return own
        return self.column_tunes.get(column, self.tune)


def read_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep file and check its structure (the overrides are checked when it is expanded)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"No sweep file {path}. The paper's tables are sweeps/table1.yaml ... sweeps/table8.yaml.")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    return parse_sweep(raw, path)


def parse_sweep(raw: Any, path: Path) -> SweepSpec:
    """The sweep file's structure, with errors that name the key and the file (overrides are checked later)."""
    if not isinstance(raw, Mapping):
        raise UserError(
            f"{path}: a sweep file is a mapping with keys {', '.join(_TOP_KEYS)}; got {type(raw).__name__}."
        )
    _no_unknown(raw, _TOP_KEYS, path, "the top level")
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
    column_parts = {c: _part(v, path, f"columns.{c}", _COLUMN_KEYS) for c, v in columns.items()}
    column_teachers = {
        c: parse_teacher(v["teacher"], path, f"columns.{c}.teacher")
        for c, v in columns.items()
        if isinstance(v, Mapping) and "teacher" in v
    }
    column_tunes = {
        c: parse_tune(v["tune"], path, f"columns.{c}.tune", seeds[0])
        for c, v in columns.items()
        if isinstance(v, Mapping) and v.get("tune") is not None
    }
    top_tune = parse_tune(raw.get("tune"), path, "tune", seeds[0])
    rows = _named_mapping(raw["rows"], path, "rows")
    row_specs = {r: _row(r, v, path, list(column_parts), seeds[0]) for r, v in rows.items()}
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
        column_teachers=column_teachers,
        column_tunes=column_tunes,
        tune=top_tune,
    )


def _row(name: str, value: Any, path: Path, columns: list[str], first_seed: int) -> RowSpec:
    where = f"rows.{name}"
    part = _part(value, path, where, _ROW_KEYS)
    restrict = None
    needs = None
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
    teacher = (
        parse_teacher(value["teacher"], path, f"{where}.teacher")
        if isinstance(value, Mapping) and "teacher" in value
        else None
    )
    tune = (
        parse_tune(value["tune"], path, f"{where}.tune", first_seed)
        if isinstance(value, Mapping) and "tune" in value
        else _UNSET
    )
    folds = _out_of_sample(value, path, where, columns) if isinstance(value, Mapping) else None
    if folds is not None and (part.learn or teacher is not None):
        raise UserError(
            f"{path}: {where}.out_of_sample plans cross-validation folds of a plain row's run; a learned-labels row "
            "(`learn:`) or a student (`teacher:`) cannot have them. Put it on a row like [method=baseline]."
        )
    return RowSpec(name=name, part=part, columns=restrict, needs=needs, teacher=teacher, tune=tune, out_of_sample=folds)


def _out_of_sample(value: Mapping, path: Path, where: str, columns: list[str]) -> OutOfSample | None:
    if "out_of_sample" not in value:
        return None
    node = value["out_of_sample"]
    ok = isinstance(node, Mapping) and "folds" in node and set(node) <= {"folds", "columns"}
    folds = node.get("folds") if ok else None
    only = node.get("columns") if ok else None
    if (
        not isinstance(folds, int)
        or isinstance(folds, bool)
        or folds < 2
        or (only is not None and (not isinstance(only, list) or not only or not set(only) <= set(columns)))
    ):
        raise UserError(
            f"{path}: {where}.out_of_sample must give the number of cross-validation folds, at least 2, and may "
            f"restrict them to some of the columns ({', '.join(columns)}), e.g. out_of_sample: {{folds: 5}} "
            f"(cleanlab's default) or {{folds: 5, columns: [{columns[0]}]}}; got {node!r}."
        )
    return OutOfSample(folds, None if only is None else tuple(only))


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
