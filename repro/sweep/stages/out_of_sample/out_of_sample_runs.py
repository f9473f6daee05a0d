"""A plain row's cross-validation fold runs (`out_of_sample: {folds: K}`, out_of_sample_spec.py): per (column, seed)
its run and the K fold runs whose held-out predictions are out-of-sample probabilities for every training sample of
it (repro/labels/fold_runs.py derives their configs from the run's; nothing waits for them)."""

from __future__ import annotations

from repro.labels.fold_runs import cross_validation_configs
from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import override_value, parse_override
from repro.sweep.protocol.cell import Cell, Override, SeedRuns
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.out_of_sample.out_of_sample_spec import KEY, OutOfSample


def out_of_sample_seed(cell: Cell, seed: int) -> SeedRuns | None:
    """A seed of a cell whose row asks for out-of-sample folds in its column: the cell's plain run, then its fold
    runs; None where the row asks for none in this column."""
    out_of_sample: OutOfSample | None = cell.spec.row_specs[cell.row].settings.get(KEY)
    if out_of_sample is None or not out_of_sample.covers(cell.column):
        return None
    folds = out_of_sample.folds

    def runs(end: list[Override], depends_on: tuple[str, ...]) -> list[PlannedRun]:
        run = cell.plain(seed, end, depends_on)
        return [run, *_cross_validation_folds(cell, run, [*cell.overrides.own, *end], folds)]

    return SeedRuns(list(cell.overrides.own), runs=runs)


def _cross_validation_folds(cell: Cell, run: PlannedRun, own: list[Override], folds: int) -> list[PlannedRun]:
    """The K fold runs of `run` whose held-out predictions are out-of-sample (repro/labels/fold_runs.py)."""
    planned = []
    for fold, config in enumerate(cross_validation_configs(run.config, folds)):
        split = [
            parse_override(f"split.{key}={override_value(config['split'][key])}", where="stage")
            for key in ("meta_fraction", "folds", "fold", "full_train")
        ]
        planned.append(
            make_run(
                cell.row, cell.column, run.seed, "fold", fold, own + split, run.depends_on, cell.where, config=config
            )
        )
    return planned
