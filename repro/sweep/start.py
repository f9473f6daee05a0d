"""A run's start, where its sweep stages act on it before the training loop trains it (repro/train.py knows no stage).

Every way a run trains comes through here: `repro train` (repro/commands/train.py), and a sweep's job on the machine
that trains it (repro/sweep/executors/job.py: the local executor, a packed job's children and a SLURM job all run
`run_planned`). The stages act on it through the protocol (repro/sweep/protocol/base.py: `Stage.prepare`); this module
names none of them. Before anything is written, each registered stage (repro/sweep/protocol/registry.py) acts on the run
in turn (`Stage.prepare`), e.g. the tuning stage (repro/sweep/stages/tune/stage.py):

- a successive-halving rung's job (`halving:` node) asks whether its run was promoted to its rung: if not, it trains
  nothing; if so, the loop gets the rung's `EpochLimit`;
- a tuned run (`tune:` node with keys) takes the winner of its finished tuning runs into its config (same run id),
  and its summary records what was tuned, from which runs; where the winner's tuning run of its seed is its very
  training (`where: []`), it takes that run's records and trains nothing (repro/runs/adopt.py).

A done run is left to `train`, which says so (or, with `rerun`, keeps it as an earlier attempt): nothing is decided
for it."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from repro.config import to_container
from repro.runs.adopt import adopt
from repro.runs.attempts import archive_done_run
from repro.runs.records import read_summary
from repro.runs.rundir import RunDir
from repro.sweep.protocol.base import Prepared
from repro.sweep.protocol.registry import stages
from repro.train import RunResult, train


def _adopt(rd: RunDir, prepared: Prepared, wait: float | bool, rerun: bool) -> RunResult:
    """A run that is a finished run's very training: that run's records, nothing trained (repro/runs/adopt.py).
    `rerun`: the done run is kept as an earlier attempt first, as `train` keeps one, and adopts again."""
    if rerun and rd.is_done():
        archive_done_run(rd, wait)
    with rd.hold(wait):
        if rd.is_done():  # the writer we waited for finished it
            return RunResult(rd, read_summary(rd) or {}, already_done=True)
        summary = adopt(rd, RunDir(rd.path.parent / prepared.same_as), prepared.config, prepared.summary_fields)
    return RunResult(rd, summary)


def prepare(config: dict[str, Any]) -> Prepared:
    """The stages' decisions for `config` when its run starts (a UserError while one cannot be made yet: a tuned
    run's tuning runs not all done, a rung not decided). The first stage that skips the run ends the asking."""
    prepared = Prepared(config)
    for stage in stages():
        prepared = stage.prepare(prepared)
        if prepared.skip:
            break
    return prepared


def train_run(
    cfg: DictConfig, *, stop_after_epochs: int | None = None, wait: float | bool = False, rerun: bool = False
) -> RunResult:
    """Train the run of `cfg` as its stages say (`prepare`), resuming it as `train` does. A run a stage skips (a
    rung's job that was not promoted) returns at once with `stopped` saying why."""
    config = to_container(cfg)
    if RunDir.for_config(config).is_done() and not rerun:
        return train(cfg, wait=wait)  # done: a no-op that says so
    prepared = prepare(config)
    if prepared.skip:
        return RunResult(RunDir.for_config(config), {"stopped": prepared.skip}, stopped=prepared.skip)
    if prepared.same_as:
        return _adopt(RunDir.for_config(config), prepared, wait, rerun)
    return train(
        OmegaConf.create(prepared.config) if prepared.config is not config else cfg,
        limit=prepared.limit,
        summary_fields=prepared.summary_fields,
        stop_after_epochs=stop_after_epochs,
        wait=wait,
        rerun=rerun,
    )
