"""The parsed sweep file and the runs it plans: the data classes every sweep module shares.

`SweepSpec` is one sweep file (sweeps/tableN.yaml) read and checked by repro/sweep/sweep_file.py (its format is
described there and in docs/cluster.md): its columns' and rows' overrides (`Part`, `RowSpec`), and each registered
stage's key where it stands (`stage_settings`, `column_settings`, a row's `settings`), read by the stage
(repro/sweep/protocol/base.py: `Stage.read`) and asked for by the stage alone. `PlannedRun` is one run of its expansion
(repro/sweep/expand/expand.py), carrying what its stage decided of it; `Scale` shrinks every run of a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.errors import UserError

# "tune": a tuning run of a cell (repro/sweep/stages/tune/); "teacher" / "teacher fold" / "teacher tune": another
# table's run (its folds, its tuning runs) a student learns from. Tables report "single" and "final" runs only.
STAGES = ("tune", "single", "fold", "final", "teacher", "teacher fold", "teacher tune")


@dataclass(frozen=True)
class Scale:
    """How much of a table a sweep spends: fewer epochs, a stratified subset of the train / test data (demo, tests),
    and the options the stages add to `repro sweep` (`Stage.flags`: the strategy of every tuning stage, further seeds
    where a claim is undecided), by name, read by their stages (`option`). It travels with every expansion of the
    sweep (its teachers', `repro sweep status`'s, `repro tables`', through selection.json), as the runs' ids depend
    on it; a teacher's expansion leaves out the stage options about the table alone (`StageFlag.referenced`)."""

    epochs: int | None = None
    subset: int | None = None
    test_subset: int | None = None
    # the options stages add to `repro sweep` (repro/sweep/protocol/base.py StageFlag), given ones only: (name, value),
    # sorted; a dict is taken too (selection.json holds one)
    stage_options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        options = self.stage_options
        pairs = options.items() if isinstance(options, Mapping) else options
        object.__setattr__(self, "stage_options", tuple(sorted((str(k), v) for k, v in pairs)))

    def option(self, name: str, default: Any = None) -> Any:
        """The value a stage's `repro sweep` option was given (`default` where it was not)."""
        return dict(self.stage_options).get(name, default)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Scale:
        """The scale selection.json holds (`record()`). One written before the stages declared their options held
        some as keys of their own (`"tune_strategy": "halving"`): each such key given is read as the stage option of
        that name, so an old output root's runs are planned as they were."""
        own = {f.name for f in fields(cls)}
        older = {k: v for k, v in record.items() if k not in own and v is not None}
        given = dict(cls(stage_options=record.get("stage_options", ())).stage_options)
        scale = {k: v for k, v in record.items() if k in own and k != "stage_options"}
        return cls(**scale, stage_options={**older, **given})

    def record(self) -> dict[str, Any]:
        """The scale as selection.json holds it (`from_record` reads it back)."""
        return {
            "epochs": self.epochs,
            "subset": self.subset,
            "test_subset": self.test_subset,
            "stage_options": dict(self.stage_options),
        }

    def overrides(self) -> list[str]:
        keys = (("optim.epochs", self.epochs), ("data.subset", self.subset), ("data.test_subset", self.test_subset))
        for key, value in keys:
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise UserError(f"Scale: {key}={value!r} must be a positive whole number (or None for the paper's).")
        return [f"{key}={value}" for key, value in keys if value is not None]


@dataclass(frozen=True)
class PlannedRun:
    """One run of an expanded sweep. The same run (same run_id) may serve several cells, e.g. the fold runs of
    Table 3's static and dynamic replays; it is submitted once.

    Its last fields are what its stage decided of it when it planned it (repro/sweep/stages/): the plan, the budget
    and the executors read them and name no stage. `run_id` is what the planner, the job registry and the executors
    key on: a run's own id, or the name of a job that trains part of a run (`part_of`)."""

    run_id: str
    row: str
    column: str
    seed: int
    stage: str  # one of STAGES
    fold: int | None
    overrides: tuple[str, ...]  # Hydra overrides that produce `config` (incl. output_root, sweep.name/stage)
    config: dict = field(compare=False, repr=False)  # the resolved config (plain dict)
    depends_on: tuple[str, ...] = ()  # run ids that must be done first (a final <- its folds)
    phase: str = ""  # where it is in its stage's schedule, shown after the stage: "rung 1/2" (a rung's job)
    part_of: str = ""  # the run it trains part of, where it is no run of its own (a rung's job: its run, to the rung)
    share: float = 1.0  # the share of its run's cost it is expected to train (a rung's job: its epochs x its chance)
    trains: bool = True  # False: it takes a finished run's records (a tuned run that is its winning tuning run)

    @property
    def label(self) -> str:
        """Its stage as the plan's tables show it: 'tune rung 1/2' for a rung's job, else the stage."""
        return f"{self.stage} {self.phase}" if self.phase else self.stage

    @property
    def run_dir_id(self) -> str:
        """The run directory it trains (<output_root>/runs/<this>/): its own, or the run it trains part of."""
        return self.part_of or self.run_id


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
    # the registered stages' keys (repro/sweep/protocol/base.py, `Stage.read`): the top level's, each column's
    stage_settings: dict[str, Any] = field(default_factory=dict)
    column_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # printed under the rendered table (e.g. which row the paper's number most likely is)

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
