"""Plan a cell's tuning stage (`tune:`, repro/sweep/stages/tune/tune_spec.py): one tuning run per grid point and tuning
seed,
and the `tune` override that makes the cell's runs depend on them and pick the winner
(repro/sweep/stages/tune/tuning.py).

A tuning run is the cell's training run as it would be trained (a learned row: its label-learning fold run; a plain
row: its run; a student: its run with the teacher of that seed), then `where` (default split=holdout split.fold=0),
the command line's overrides, `epochs` (unless the scale sets epochs), the scale, the grid point's values, the
tuning seed, output_root and sweep.name / sweep.stage=tune. Its config has the default `tune` node, so it is an
ordinary run: the planner and the executors know it only by its dependency edges.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from repro.errors import UserError
from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import override_value, parse_all, parse_override
from repro.sweep.protocol.cell import Cell, CellOverrides, CellRuns, Override
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.tune.halving_runs import plan_rungs
from repro.sweep.stages.tune.tune_spec import TuneSpec, cell_tune, scaled
from repro.sweep.stages.tune.tuning import reuses_tuning_run
from repro.sweep.stages.tune_from.tune_from_runs import borrowed_tuning


def cell_tuning(cell: Cell) -> CellRuns | None:
    """A tuned cell's tuning runs (after the runs they learn from: a student's teachers of the tuning seeds), the
    `tune=...` override of the cell's runs, the dependency on the tuning runs, and which of the cell's runs train
    nothing (`marked`); None: the cell is not tuned. A cell that takes another cell's tuning stage (`tune: {from:
    ...}`) borrows its runs (repro/sweep/stages/tune_from/)."""
    tune = scaled(cell_tune(cell.spec, cell.row, cell.column), cell.scale)  # `--tune-strategy`: every stage's
    if tune is None:
        return None
    if tune.source is not None:
        borrowed, tune_override = borrowed_tuning(tune.source, cell.row, cell.column, cell.where, cell.expand)
        ids = tuple(r.run_id for r in borrowed if r.stage == "tune")
        return CellRuns(tuple(borrowed), (tune_override,), ids, marked)
    runs: list[PlannedRun] = []
    bases = {}
    for seed in tune.seeds:
        base = cell.base(seed)
        runs += base.first
        bases[seed] = (base.overrides, base.depends_on)
    tune_runs, tune_override = plan_tuning(tune, cell.row, cell.column, bases, cell.overrides, where=cell.where)
    return CellRuns(tuple(runs + tune_runs), (tune_override,), tuple(r.run_id for r in tune_runs), marked)


def marked(runs: list[PlannedRun]) -> list[PlannedRun]:
    """The cell's runs with what the tuning stage decides of each: a tuned run that is, whichever point wins, one of
    its tuning runs (`where: []`, a tuning seed) trains nothing and takes that run's records (`trains`)."""
    return [replace(r, trains=False) if r.trains and reuses_tuning_run(r.config) else r for r in runs]


def plan_tuning(
    tune: TuneSpec,
    row: str,
    column: str,
    bases: Mapping[int, tuple[list[Override], tuple[str, ...]]],
    cell: CellOverrides,
    *,
    where: str,
) -> tuple[list[PlannedRun], Override]:
    """(the tuning runs, the `tune=...` override of the cell's runs). `bases`: per tuning seed, the cell's own
    overrides before the command line's and the runs they depend on (a student: its teacher of that seed); `cell`:
    the cell's command-line, scale and where overrides, which every tuning run takes too."""
    place = parse_all(tune.where, f"{where}: tune.where")
    scale_sets_epochs = any(o.key == "optim.epochs" for o in cell.scale)
    epochs = (
        []
        if tune.epochs is None or scale_sets_epochs
        else [parse_override(f"optim.epochs={tune.epochs}", where=f"{where}: tune.epochs")]
    )
    runs: list[PlannedRun] = []
    entries: list[dict[str, Any]] = []
    for point in tune.points():
        texts = [f"{key}={override_value(value)}" for key, value in zip(tune.keys, point)]
        values = parse_all(texts, f"{where}: tune.grid")
        for seed in tune.seeds:
            base, deps = bases[seed]
            seeded = parse_override(f"seed={seed}", where=f"{where}: tune.seeds")
            overrides = [*base, *place, *cell.command_line, *epochs, *cell.scale, *values, seeded, *cell.where]
            run = make_run(
                row, column, seed, "tune", None, overrides, deps, f"{where}, tuning grid point {' '.join(texts)}"
            )
            if run.config["split"].get("full_train"):
                raise UserError(
                    f"{where}: the tuning runs would train on the full training set (tune.where="
                    f"{list(tune.where)}), which leaves no validation set to select on. Use the default "
                    "where: [split=holdout, split.fold=0], or where: [] for a split that holds a meta set "
                    "(split=noisy)."
                )
            runs.append(run)
            entries.append({"run": run.run_id, "values": list(point)})
    node = {"keys": list(tune.keys), "runs": entries, "select": tune.select, "chosen": None}
    if tune.halves:  # one job per rung and run (repro/sweep/stages/tune/halving_runs.py)
        return plan_rungs(tune, runs, node, where)
    return runs, parse_override(f"tune={override_value(node)}", where=f"{where}: tune")
