"""The parsed sweep file and the runs it plans: the data classes every sweep module shares.

`SweepSpec` is one sweep file (sweeps/tableN.yaml) read and checked by repro/sweep/spec/sweep_file.py (its format is
described there and in docs/cluster.md): its columns' and rows' overrides (`Part`, `RowSpec`) and their tuning,
teacher and out-of-sample settings (repro/sweep/stages/tune/tune_spec.py, teacher_ref.py, out_of_sample_spec.py).
`PlannedRun`
is one run of its expansion (repro/sweep/expand/expand.py); `Scale` shrinks every run of a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from repro.errors import UserError
from repro.sweep.stages.gate.gate_spec import GateSpec
from repro.sweep.stages.out_of_sample.out_of_sample_spec import OutOfSample
from repro.sweep.stages.teachers.teacher_ref import TeacherRef
from repro.sweep.stages.tune.tune_spec import STRATEGIES, TuneSpec

# "tune": a tuning run of a cell (repro/sweep/stages/tune/tuning_runs.py); "teacher" / "teacher fold" / "teacher tune":
# another
# table's run (its folds, its tuning runs) a student learns from. Tables report "single" and "final" runs only.
STAGES = ("tune", "single", "fold", "final", "teacher", "teacher fold", "teacher tune")
# Keys of summary.json a table can report (repro/train.py `summarise`).
METRICS = ("final_test_acc", "test_acc_at_best_val", "final_val_acc", "best_val_acc", "final_train_acc")
# RowSpec.tune of a row without a `tune:` key: its column's or the file's tuning applies (`tune: null` is None).
UNSET = object()


@dataclass(frozen=True)
class Scale:
    """How much of a table a sweep spends: fewer epochs, a stratified subset of the train / test data (demo, tests),
    or the strategy of every tuning stage (`--tune-strategy halving`: successive halving instead of the full grid,
    repro/sweep/stages/tune/halving.py). It travels with every expansion of the sweep (its teachers', `repro sweep
    status`'s,
    `repro tables`', through selection.json), as the runs' ids depend on it."""

    epochs: int | None = None
    subset: int | None = None
    test_subset: int | None = None
    tune_strategy: str | None = None  # the strategy of the stages that pin none (None: the grid)
    tune_seeds: int | None = None  # None: each tuning stage's own seeds; N: its first N (`repro demo --quick`: 1)

    def tune(self, tune: TuneSpec | None) -> TuneSpec | None:
        """A cell's tuning stage with this scale's strategy and seeds, where it sets them."""
        if tune is None:
            return tune
        if self.tune_strategy is not None:
            if self.tune_strategy not in STRATEGIES:
                raise UserError(f"tune strategy {self.tune_strategy!r}: use one of {', '.join(STRATEGIES)}.")
            if tune.strategy is None:  # a stage that pins its strategy in the file keeps it
                tune = replace(tune, strategy=self.tune_strategy)
        if self.tune_seeds is not None:
            if not isinstance(self.tune_seeds, int) or isinstance(self.tune_seeds, bool) or self.tune_seeds < 1:
                raise UserError(f"Scale: tune_seeds={self.tune_seeds!r} must be a positive whole number (or None).")
            tune = replace(tune, seeds=tune.seeds[: self.tune_seeds])
        return tune

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
class RowSpec:
    name: str
    part: Part
    columns: tuple[str, ...] | None = None  # None: every column of the sweep
    needs: str | None = None  # set: the row needs a method that does not exist yet
    settings: dict[str, Any] = field(default_factory=dict)  # its stages' keys, each read by its stage (Stage.read)

    @property
    def learned(self) -> bool:
        return bool(self.part.learn)

    @property
    def teacher(self) -> TeacherRef | None:
        """Set: the row's runs are students of this cell's runs (repro/sweep/stages/teachers/)."""
        return self.settings.get("teacher")

    @property
    def tune(self) -> Any:
        """Its TuneSpec, None (`tune: null`: no tuning) or UNSET (no `tune:` key: the column's or the file's)."""
        return self.settings.get("tune", UNSET)

    @property
    def out_of_sample(self) -> OutOfSample | None:
        """Set: cross-validation fold runs per run (repro/labels/out_of_sample.py)."""
        return self.settings.get("out_of_sample")


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
    # the registered stages' keys (repro/sweep/stages/base.py, `Stage.read`): the top level's, each column's
    stage_settings: dict[str, Any] = field(default_factory=dict)
    column_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # printed under the rendered table (e.g. which row the paper's number most likely is)

    @property
    def tune(self) -> TuneSpec | None:
        """The file's tuning stage (rows and columns without their own)."""
        return self.stage_settings.get("tune")

    @property
    def gate(self) -> GateSpec | None:
        """The cells that check the recipe first (repro/sweep/stages/gate/gate.py)."""
        return self.stage_settings.get("gate")

    @property
    def column_teachers(self) -> dict[str, TeacherRef]:
        """Columns whose runs are students."""
        return {c: s["teacher"] for c, s in self.column_settings.items() if s.get("teacher") is not None}

    @property
    def column_tunes(self) -> dict[str, TuneSpec]:
        """Columns that tune their cells (a column's `tune: null` is no tuning stage of its own)."""
        return {c: s["tune"] for c, s in self.column_settings.items() if s.get("tune") is not None}

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
        if own is not UNSET:
            return own
        return self.column_tunes.get(column, self.tune)
