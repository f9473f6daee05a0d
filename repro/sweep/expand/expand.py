"""Expand a sweep into runs: rows x columns x seeds, each cell's runs planned by its stages.

Takes a `SweepSpec` (repro/sweep/spec/), the output root, a `Scale` and the command line's overrides; returns the
`PlannedRun`s, each resolved once and validated once (repro/sweep/expand/build.py): its config is what an executor
trains, its overrides show the run and replay it with `repro train`.

Override order of a run (later wins, as on `repro train`'s command line): the file's `common`, the column's and the
row's `overrides`, then the stage's own (a learned-labels cell's fold and final runs: repro/sweep/stages/learn/),
the command line's extra overrides, the scale (optim.epochs, data.subset, data.test_subset), seed=s, and
output_root / sweep.name / sweep.stage.

The expansion knows no stage: each cell asks the registered stages (repro/sweep/stages/registry.py) in turn. The
first that plans runs before the cell's seeds plans them (`Stage.plan_cell`: a tuned cell's tuning runs,
repro/sweep/stages/tune/tuning_runs.py, which every run of the cell then depends on, each with the same `tune=...`
override); per seed, the first that plans the seed's runs plans them (`Stage.plan_seed`: a student's teacher runs
then itself, repro/sweep/stages/teachers/teacher_runs.py; a learned-labels cell's fold runs then its final replay
run, repro/sweep/stages/learn/learn_runs.py; a plain row's run and its cross-validation fold runs,
repro/sweep/stages/out_of_sample/out_of_sample_runs.py); else the seed's run is one plain run. A registered stage
with a top-level key of its own plans its runs after every cell's (`Stage.plan`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import Override, ParsedPart, parse_all, parse_override, parse_part, quote_value
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.stages.registry import stages


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
    """One (row, column) of the sweep and the runs it plans, asking the registered stages
    (repro/sweep/stages/base.py): the first that plans runs before the seeds' (`plan_cell`: a tuned cell's tuning
    runs), then per seed the first that plans the seed's runs (`plan_seed`: a student's, a learned-labels cell's, a
    row's with out-of-sample folds), else one plain run. What a stage reads of the cell: `spec`, `row`, `column`,
    `where` (for errors), `head` (common, the column's and the row's overrides), `col` / `own` (the column's and
    the row's parsed parts: overrides, learn, final), `learn` (their `learn`), `scale`, `extra` (the command line's),
    `scaled` (the scale's), `where_cell` (where the runs go); `base(seed)`, `plain(...)`, `expand(spec)`; `cache`
    holds what a stage keeps while the cell is planned (a student's teacher runs of each seed)."""

    def __init__(self, sweep: _Sweep, row: str, column: str) -> None:
        spec = sweep.spec
        self.sweep, self.spec, self.row, self.column = sweep, spec, row, column
        self.scale, self.extra, self.scaled = sweep.scale, sweep.extra, sweep.scaled
        self.where = f"{spec.path} (row {row!r}, column {column!r})"
        self.own: ParsedPart = parse_part(spec.row_specs[row].part, f"{spec.path}: rows.{row}")
        self.col: ParsedPart = sweep.columns[column]
        self.head = sweep.common + self.col.overrides + self.own.overrides
        self.learn = self.col.learn + self.own.learn
        self.where_cell = sweep.where_to + [
            parse_override(f"sweep.{k}={quote_value(str(v))}", where=self.where)
            for k, v in (("row", row), ("column", column))
        ]  # the W&B group, never in the run id
        self.cache: dict[Any, Any] = {}

    def runs(self) -> list[PlannedRun]:
        """The runs a stage plans before the seeds' (a tuned cell's tuning runs), then per seed its runs."""
        runs, tuned, before = self._before()
        for seed in self.spec.seeds:
            end = self.extra + self.scaled + [parse_override(f"seed={seed}", where="seeds")] + self.where_cell
            runs += self._seed(seed, tuned + end, before)
        return runs

    def _before(self) -> tuple[list[PlannedRun], list[Override], tuple[str, ...]]:
        """(the runs planned before the seeds', the overrides every run of the cell then takes, the ids of the runs
        each waits for): the first stage's that plans them; nothing where none does."""
        for stage in self.sweep.stages:
            planned = stage.plan_cell(self)
            if planned is not None:
                return planned
        return [], [], ()

    def _seed(self, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> list[PlannedRun]:
        """The runs of `seed`: the first registered stage's that plans them, else the cell's plain run."""
        for stage in self.sweep.stages:
            planned = stage.plan_seed(self, seed, end, depends_on)
            if planned is not None:
                return planned
        return [self.plain(seed, end, depends_on)]

    def base(self, seed: int) -> tuple[list[Override], tuple[str, ...], list[PlannedRun]]:
        """The cell's own overrides for a seed as it trains (before the command line's), the runs it depends on,
        and the runs to plan first: the first stage's that says (`seed_base`: a student's teacher, a learned-labels
        cell's fold run), else the cell's `head`. A tuned cell's tuning runs train from it."""
        for stage in self.sweep.stages:
            base = stage.seed_base(self, seed)
            if base is not None:
                return base
        return self.head, (), []

    def plain(self, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> PlannedRun:
        """The cell's one run of `seed` (stage "single")."""
        return make_run(self.row, self.column, seed, "single", None, self.head + end, depends_on, self.where)

    def expand(self, spec: SweepSpec) -> list[PlannedRun]:
        """Another sweep file's runs (a teacher's cell, a cell whose tuning this one borrows), at this expansion's
        output root, scale and command-line overrides, so their run ids are that table's own."""
        sweep = self.sweep
        return expand_sweep(spec, output_root=sweep.output_root, scale=sweep.scale, extra_overrides=sweep.extra_texts)
