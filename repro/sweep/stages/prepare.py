"""A run's start, where its sweep stages act on it before the training loop trains it (repro/train.py knows no stage).

Every way a run trains comes through here: `repro train` (repro/commands/train.py), and a sweep's job on the machine
that trains it (repro/sweep/executors/job.py: the local executor, a packed job's children and a SLURM job all run
`run_planned`). Before anything is written:

- a successive-halving rung's job (`halving:` node, repro/sweep/stages/tune/rung_job.py) asks whether its run was
  promoted to its rung: if not, it trains nothing; if so, the loop gets the rung's `EpochLimit`;
- a tuned run (`tune:` node with keys, repro/sweep/stages/tune/tuning.py) takes the winner of its finished tuning
  runs into its config (same run id), and its summary records what was tuned, from which runs.

A done run is left to `train`, which says so (or, with `rerun`, keeps it as an earlier attempt): nothing is decided
for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from repro.config import to_container
from repro.runs.rundir import RunDir
from repro.sweep.stages.tune import rung_job, tuning
from repro.train import RunResult, train
from repro.training.protocols import EpochLimit


@dataclass(frozen=True)
class Prepared:
    """What the stages decided for a run that is to train: the final config, where it stops, what its summary adds;
    or, with `skip`, why it trains nothing now."""

    config: dict[str, Any]
    limit: EpochLimit | None = None
    summary_fields: dict[str, Any] = field(default_factory=dict)
    skip: str = ""


def prepare(config: dict[str, Any]) -> Prepared:
    """The stages' decisions for `config` when its run starts (a UserError while one cannot be made yet: a tuned
    run's tuning runs not all done, a rung not decided)."""
    rung = rung_job.gate(config)  # a successive-halving rung's job: was the run promoted?
    if rung is not None and not rung.promoted:
        return Prepared(config, skip=rung.why)
    if tuning.tuned_keys(config):  # the winner of its finished tuning runs (same run id)
        config = tuning.apply(config)
    return Prepared(config, rung_job.limit(config), tuning.summary_fields(config))


def train_run(
    cfg: DictConfig, *, stop_after_epochs: int | None = None, wait: float | bool = False, rerun: bool = False
) -> RunResult:
    """Train the run of `cfg` as its stages say (`prepare`), resuming it as `train` does. A rung's job that was not
    promoted returns at once with `stopped` saying why."""
    config = to_container(cfg)
    if RunDir.for_config(config).is_done() and not rerun:
        return train(cfg, wait=wait)  # done: a no-op that says so
    prepared = prepare(config)
    if prepared.skip:
        return RunResult(RunDir.for_config(config), {"stopped": prepared.skip}, stopped=prepared.skip)
    return train(
        OmegaConf.create(prepared.config) if prepared.config is not config else cfg,
        limit=prepared.limit,
        summary_fields=prepared.summary_fields,
        stop_after_epochs=stop_after_epochs,
        wait=wait,
        rerun=rerun,
    )
