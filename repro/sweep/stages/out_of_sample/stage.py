"""Out-of-sample fold runs (`out_of_sample:` on a row) as a registered stage (repro/sweep/protocol/base.py): its key
(out_of_sample_spec.py), on a plain row only; per seed, the row's run and its fold runs (out_of_sample_runs.py)."""

from __future__ import annotations

from typing import Any

from repro.errors import UserError
from repro.sweep.protocol.base import KeyAt, Place, Stage
from repro.sweep.protocol.cell import Cell, SeedRuns
from repro.sweep.stages.out_of_sample.out_of_sample_runs import out_of_sample_seed
from repro.sweep.stages.out_of_sample.out_of_sample_spec import KEY, OutOfSample, read_out_of_sample


class OutOfSampleStage(Stage):
    key = KEY
    places = frozenset({Place.ROW})

    def read(self, value: Any, at: KeyAt) -> OutOfSample:
        folds = read_out_of_sample(value, at.path, at.where, at.columns)
        if at.siblings.get("learn") or "teacher" in at.siblings:
            raise UserError(
                f"{at.path}: {at.where} plans cross-validation folds of a plain row's run; a learned-labels row "
                "(`learn:`) or a student (`teacher:`) cannot have them. Put it on a row like [method=baseline]."
            )
        return folds

    def plan_seed(self, cell: Cell, seed: int) -> SeedRuns | None:
        return out_of_sample_seed(cell, seed)
