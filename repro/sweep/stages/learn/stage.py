"""Learned labels (`learn:` on a row or a column, with its `final:` overrides) as a registered stage
(repro/sweep/protocol/base.py): it plans a learned-labels cell's seed, the fold runs then the final replay run that
reads them (learn_runs.py); the cell's tuning runs train as its fold runs do."""

from __future__ import annotations

from repro.sweep.protocol.base import Place, Stage
from repro.sweep.protocol.cell import Cell, SeedRuns
from repro.sweep.stages.learn import learn_runs


class LearnStage(Stage):
    key = "learn"
    places = frozenset[Place]()  # `learn:` / `final:` are a row's or column's override lists (its Part)

    def plan_seed(self, cell: Cell, seed: int) -> SeedRuns | None:
        if not cell.overrides.learn:
            return None
        return SeedRuns(
            learn_runs.fold_base(cell), runs=lambda end, deps: learn_runs.learned_runs(cell, seed, end, deps)
        )
