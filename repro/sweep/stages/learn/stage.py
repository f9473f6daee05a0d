"""Learned labels (`learn:` on a row or a column, with its `final:` overrides) as a registered stage
(repro/sweep/stages/base.py): it plans a learned-labels cell's runs per seed, the fold runs then the final replay
run that reads them (learn_runs.py), and its tuning runs' overrides (they train as the fold runs do)."""

from __future__ import annotations

from repro.sweep.expand.overrides import Override
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.base import Cell, Place, Stage
from repro.sweep.stages.learn import learn_runs


class LearnStage(Stage):
    key = "learn"
    places = frozenset[Place]()  # `learn:` / `final:` are a row's or column's override lists (its Part)

    def plan_seed(
        self, cell: Cell, seed: int, end: list[Override], depends_on: tuple[str, ...]
    ) -> list[PlannedRun] | None:
        return learn_runs.learned_runs(cell, seed, end, depends_on) if cell.learn else None

    def seed_base(self, cell: Cell, seed: int) -> tuple[list[Override], tuple[str, ...], list[PlannedRun]] | None:
        return (learn_runs.fold_base(cell), (), []) if cell.learn else None
