"""Expand a sweep into runs: rows x columns x seeds, each cell's runs planned by its stages.

Takes a `SweepSpec` (repro/sweep/spec/), the output root, a `Scale` and the command line's overrides; returns the
`PlannedRun`s, each resolved once and validated once (repro/sweep/expand/build.py): its config is what an executor
trains, its overrides show the run and replay it with `repro train`.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (a learned-labels cell's fold and final runs), the overrides every stage adds
to the cell's runs (`tune=...`), the command line's extra overrides, the scale (optim.epochs, data.subset,
data.test_subset), seed=s, and output_root / sweep.name / sweep.stage.

The expansion knows no stage: each cell asks the registered stages (repro/sweep/protocol/registry.py; the protocol,
repro/sweep/protocol/base.py) in turn. Every stage adds what it adds to the cell's runs (`Stage.plan_cell`: a tuned
cell's tuning runs first, which every run of the cell then depends on, each with the same `tune=...` override); per
seed, the first stage that plans the seed's runs plans them (`Stage.plan_seed`: a student's teacher runs then
itself; a learned-labels cell's fold runs then its final replay run; a plain row's run and its cross-validation
fold runs); else the seed's run is one plain run. Last, each stage decides what it decides of the cell's runs
(`CellRuns.then`: a tuned run that is its winning tuning run trains nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Hashable, Sequence, TypeVar

from repro.sweep.expand.build import COMPOSER, make_run
from repro.sweep.expand.overrides import parse_all, parse_override, parse_part, quote_value
from repro.sweep.protocol.cell import CellOverrides, Override, SeedRuns
from repro.sweep.protocol.registry import referenced_scale, stages
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec


def expand_sweep(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run of the sweep's runnable rows (rows with `needs` plan nothing), in row, column, seed order. A cell
    lists the runs its stages plan first (its tuning runs, with a student's teachers of the tuning seeds before
    them), then per seed: a student's teacher runs, a learned-labels cell's fold runs, then its reported run: a run
    always comes after the runs it depends on. `extra_overrides` (e.g. tracker.mode=online from the command line) go
    to every run."""
    sweep = _Sweep(spec, output_root, scale, extra_overrides)
    runs: list[PlannedRun] = []
    for row in spec.row_specs.values():
        if row.needs:
            continue
        for column in spec.row_columns(row.name):
            runs += _Cell(sweep, row.name, column).runs()
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
        self.stages = stages()  # the registered stages, asked for the runs each plans (repro/sweep/protocol/base.py)


Kept = TypeVar("Kept")


class _Cell:
    """One (row, column) of the sweep and the runs it plans, asking the registered stages (what a stage reads of
    it: repro/sweep/protocol/cell.py, `Cell`): what every stage adds to the cell's runs (`plan_cell`), then per seed
    the first stage that plans the seed's runs (`plan_seed`), else one plain run; last, what each stage decides of
    the cell's runs (`CellRuns.then`)."""

    def __init__(self, sweep: _Sweep, row: str, column: str) -> None:
        spec = sweep.spec
        self.sweep, self.spec, self.row, self.column, self.scale = sweep, spec, row, column, sweep.scale
        self.where = f"{spec.path} (row {row!r}, column {column!r})"
        own = parse_part(spec.row_specs[row].part, f"{spec.path}: rows.{row}")
        col = sweep.columns[column]
        where_cell = [
            parse_override(f"sweep.{k}={quote_value(str(v))}", where=self.where)
            for k, v in (("row", row), ("column", column))
        ]  # the W&B group, never in the run id
        self.overrides = CellOverrides(
            own=(*sweep.common, *col.overrides, *own.overrides),
            learn=(*col.learn, *own.learn),
            final=(*col.final, *own.final),
            command_line=tuple(sweep.extra),
            scale=tuple(sweep.scaled),
            where=(*sweep.where_to, *where_cell),
        )
        self._kept: dict[Hashable, Any] = {}
        # what every run of the cell takes and waits for, once its stages have said (`runs`)
        self._every: list[Override] | None = None
        self._depends_on: tuple[str, ...] = ()

    def choice(self, group: str) -> str:
        """The option the cell's own overrides select for a config group, its default where they select none."""
        return COMPOSER.choices(self.overrides.own)[group]

    def once(self, key: Hashable, make: Callable[[], Kept]) -> Kept:
        """What a stage computes once per cell (a student's teacher runs of a seed)."""
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]

    def runs(self) -> list[PlannedRun]:
        """The runs its stages plan first (a tuned cell's tuning runs), then per seed its runs, as its stages leave
        them."""
        added = [a for a in (stage.plan_cell(self) for stage in self.sweep.stages) if a is not None]
        runs = [run for a in added for run in a.first]
        self._every = [o for a in added for o in a.overrides]
        self._depends_on = tuple(d for a in added for d in a.depends_on)
        for seed in self.spec.seeds:
            runs += self.seed_runs(seed)
        for a in added:
            if a.then is not None:
                runs = a.then(runs)
        return runs

    def seed_runs(self, seed: int) -> list[PlannedRun]:
        """The cell's runs of `seed`, a seed of the file's or another (a stage's further round of seeds), with what
        every run of the cell takes and waits for. Asked once the stages have said that (in `CellRuns.then`)."""
        if self._every is None:
            raise RuntimeError(f"{self.where}: a cell's seed runs are planned after its stages' plan_cell")
        o = self.overrides
        end = [*self._every, *o.command_line, *o.scale, parse_override(f"seed={seed}", where="seeds"), *o.where]
        return self._seed(seed, end, self._depends_on)

    def _planned(self, seed: int) -> SeedRuns | None:
        """How the first registered stage that plans `seed` plans it (None: no stage does)."""
        for stage in self.sweep.stages:
            planned = stage.plan_seed(self, seed)
            if planned is not None:
                return planned
        return None

    def _seed(self, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> list[PlannedRun]:
        """The runs of `seed`: the first registered stage's that plans them, else the cell's plain run."""
        planned = self._planned(seed)
        if planned is None:
            return [self.plain(seed, end, depends_on)]
        if planned.runs is not None:
            return planned.runs(end, depends_on)
        run = make_run(
            self.row,
            self.column,
            seed,
            "single",
            None,
            planned.overrides + end,
            planned.depends_on + depends_on,
            self.where,
        )
        return [*planned.first, run]

    def base(self, seed: int) -> SeedRuns:
        """How the cell trains `seed`, before the command line's overrides: the first stage's that plans it (a
        student: its own overrides with its teacher, which it depends on and plans first; a learned-labels cell: its
        fold runs' overrides), else the cell's own overrides. A tuned cell's tuning runs train from it."""
        return self._planned(seed) or SeedRuns(list(self.overrides.own))

    def plain(self, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> PlannedRun:
        """The cell's one run of `seed` (stage "single")."""
        own = [*self.overrides.own, *end]
        return make_run(self.row, self.column, seed, "single", None, own, depends_on, self.where)

    def expand(self, spec: SweepSpec) -> list[PlannedRun]:
        """Another sweep file's runs (a teacher's cell, a cell whose tuning this one borrows), at this expansion's
        output root, scale and command-line overrides, so their run ids are that table's own."""
        sweep = self.sweep
        scale = referenced_scale(sweep.scale)  # less the options about this table alone (its further seeds)
        return expand_sweep(spec, output_root=sweep.output_root, scale=scale, extra_overrides=sweep.extra_texts)
