"""Plan a successive-halving tuning stage (`tune: {strategy: halving}`; the race itself:
repro/sweep/stages/tune/halving.py).

The grid's tuning runs are planned as for the grid strategy (tuning_runs.py), then each becomes one job per
rung: the job of rung k trains the run to the rung's epoch if the run was promoted to it, and does nothing
otherwise. All of a run's rung jobs train the same run (the `halving` node that tells them apart never enters the
run id), so a job resumes the run from the checkpoint the previous rung left. The last rung's job keeps the run's
own id; an earlier one is `<run id>@rung<k>` (`unit_id`), a name the planner, the job registry and the executors use
for the job, never for a run directory (the job's `part_of` names its run). Each job carries what the plan and the
budget read of it: its phase ("rung 1/2"), the run it trains part of, and its expected share of the run's cost. The
jobs of rung k wait for every job of rung k - 1 of the cell (on SLURM: one array per rung, afterok on the previous
rung's, as a cell's runs wait for its tuning stage); the
cell's tuned runs wait for the last rung and carry `tune.halving`, which picks the winner among the points that got
there.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

from repro.data.sizes import run_sizes
from repro.errors import UserError
from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import override_value, parse_all, parse_override
from repro.sweep.protocol.cell import Override
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.tune.halving import rung_epochs, rung_share, unit_id
from repro.sweep.stages.tune.tune_spec import TuneSpec
from repro.training.schedule import iteration_based, planned_steps


def steps_per_epoch(config: dict) -> int:
    """A full epoch's optimizer steps of a run, from its config alone."""
    train, _, _ = run_sizes(config)
    return math.ceil(train / int(config["data"]["batch_size"]))


def run_epochs(config: dict) -> int:
    """The epochs a run trains (optim.epochs, or fewer where optim.iterations ends it), from its config alone."""
    optim = config["optim"]
    if not iteration_based(optim):
        return int(optim["epochs"])
    return planned_steps(optim, steps_per_epoch(config))[0]


def stage_rungs(tune: TuneSpec, config: dict, points: int) -> tuple[int, ...]:
    """The rungs a stage's tuning runs (of this config) race at: past their warm-up, at least the stage's
    `min_epochs` and `min_fraction` of their epochs, with at least `finalists` points at the end."""
    return rung_epochs(
        run_epochs(config),
        tune.eta,
        points,
        tune.min_epochs,
        min_fraction=tune.min_fraction,
        warmup_epochs=int(config["optim"].get("warmup_epochs", 0) or 0),
        finalists=tune.least_finalists,
    )


def plan_rungs(tune: TuneSpec, runs: list[PlannedRun], node: dict[str, Any], where: str) -> tuple[list, Override]:
    """(the rung jobs of the grid's tuning `runs`, the `tune=...` override of the cell's runs). A race with one rung
    (too few epochs or points to halve) is the grid: its runs and `node` unchanged."""
    totals = {(run_epochs(r.config), r.config["optim"].get("warmup_epochs")) for r in runs}
    if len(totals) != 1:
        raise UserError(
            f"{where}: successive halving races grid points on one schedule, but the tuning runs train "
            f"{sorted(totals, key=str)} (epochs, warm-up epochs): the grid changes the schedule? Use strategy: grid "
            "for this stage."
        )
    epochs = list(stage_rungs(tune, runs[0].config, len(tune.points())))
    if len(epochs) == 1:
        return runs, parse_override(f"tune={override_value(node)}", where=f"{where}: tune")
    finalists = tune.least_finalists
    race = {"epochs": epochs, "eta": tune.eta, "finalists": finalists, "select": tune.select, "runs": node["runs"]}
    jobs: list[PlannedRun] = []
    previous: tuple[str, ...] = ()
    for rung in range(len(epochs)):
        level = []
        for run in runs:
            halving = {"rung": rung, **race}
            job = make_run(  # the run's own config with the rung's node, validated as every planned run is
                run.row,
                run.column,
                run.seed,
                run.stage,
                run.fold,
                parse_all([*run.overrides, f"halving={override_value(halving)}"], f"{where}: tune rung {rung}"),
                run.depends_on if rung == 0 else previous,
                where,
                config={**copy.deepcopy(run.config), "halving": halving},
            )
            assert job.run_id == run.run_id  # the halving node is not part of the run id: the same run, stopped
            job = replace(job, phase=f"rung {rung}/{len(epochs) - 1}", share=rung_share(job.config))
            last = rung == len(epochs) - 1
            level.append(job if last else replace(job, run_id=unit_id(run.run_id, rung), part_of=run.run_id))
        jobs += level
        previous = tuple(j.run_id for j in level)
    tuned = {**node, "halving": {"eta": tune.eta, "epochs": epochs, "finalists": finalists}}
    return jobs, parse_override(f"tune={override_value(tuned)}", where=f"{where}: tune")
