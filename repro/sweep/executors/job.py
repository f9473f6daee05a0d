"""One planned run on the machine that trains it: read its resolved config (written beside the plan,
repro/sweep/sweep_folder.py), check what can differ on this node, train (resuming from the run's per-epoch
checkpoint if there is one), and as a SLURM job requeue itself on preemption or the time-limit signal.

Takes a planned config file; returns the run's result. The config was composed and validated once, when the sweep
was planned, and is not composed or validated again here: only the data files it reads, the device it asks for and
the run's lock (held by `train`) are checked on the node. Its sweep stages act on it when it starts
(repro/sweep/start.py: a rung's job promoted or not, a tuned run's winner), then the loop trains it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import submitit
import torch
from omegaconf import OmegaConf

from repro.runs import runlock
from repro.runs.records import DAMAGED, summary_state
from repro.runs.rundir import RunDir, run_id
from repro.sweep.start import train_run
from repro.sweep.sweep_folder import read_planned_config
from repro.train import Interrupted
from repro.training.hardware import Hardware
from repro.validation import check_paths

REQUEUE_WAIT_S = 120  # after SIGTERM, how long a SLURM job waits for submitit's requeue signal before giving up


def run_planned(config_file: str | Path, *, wait: float | bool = False, progress: str | None = None):
    """Train the planned run whose resolved config is `config_file`. `wait`: how long to wait when another process
    holds the run (repro/runs/runlock.py); `progress`: in place of the config's (not part of the run id)."""
    config = read_planned_config(config_file)
    if progress is not None:
        config["progress"] = progress
    check_paths(config)  # the data it reads is there on this node
    Hardware.from_config(config)  # the device it asks for is here
    # A summary that cannot be read is not done (repro/sweep/plan.py): train a new attempt, the damaged one kept.
    damaged = summary_state(RunDir.for_config(config))[0] == DAMAGED
    return train_run(OmegaConf.create(config), wait=wait, rerun=damaged)  # its stages act first: a rung, a winner


class TrainJob(submitit.helpers.Checkpointable):
    """The callable a SLURM job runs. `checkpoint()` is submitit's preemption / time-limit hook: it returns this
    same job to be requeued, and the requeued job resumes from the run's last per-epoch checkpoint."""

    def __init__(self, run_id: str, config_file: str | Path, output_root: str) -> None:
        self.run_id = run_id
        self.config_file = str(config_file)
        self.output_root = output_root

    def __call__(self) -> dict[str, Any]:
        _match_threads_to_allocation()
        try:
            return self.train()
        except Interrupted:
            # train() turns SIGTERM into Interrupted. Under SLURM a SIGTERM means preemption, cancellation or the
            # hard time limit; on preemption submitit's own signal (USR2) follows and requeues this job from its
            # handler. Wait for it instead of ending the job as failed; if it never comes, the job ends here and
            # the next `repro sweep` resubmits the run (it resumes from its checkpoint).
            if os.environ.get("SLURM_JOB_ID"):
                time.sleep(REQUEUE_WAIT_S)
            raise

    def train(self) -> dict[str, Any]:
        """Train the run in this process (a packed job's child does only this: repro/sweep/executors/packed.py)."""
        # A requeued job may start while the old one is still being killed: wait until its lock is released
        # or turns stale (its process gone on this node, or no heartbeat from another node), then resume.
        result = run_planned(self.config_file, wait=runlock.STALE_AFTER_S + 2 * runlock.HEARTBEAT_S)
        return {"run_id": self.run_id, "already_done": result.already_done, "summary": result.summary}

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        self.record_requeue()
        return super().checkpoint(*args, **kwargs)

    def run_dir(self) -> RunDir:
        """The run its planned config trains: its own, or for a job that trains part of a run (a rung's), that run."""
        return RunDir(Path(self.output_root) / "runs" / run_id(read_planned_config(self.config_file)))

    def record_requeue(self) -> None:
        """Mark the run `interrupted` (requeued) when no live process writes it."""
        rd = self.run_dir()
        # Only the run's writer (this process, or none: train() already released the lock on SIGTERM) records
        # the requeue; while another process holds the run, this job writes nothing.
        free = not rd.lock_file.exists() or runlock.held_by_this_process(rd.lock_file)
        if rd.path.exists() and not rd.is_done() and free:
            status = rd.read_status() or {}
            rd.write_status(
                "interrupted",
                epoch=int(status.get("epoch", 0)),
                message="preempted or time limit: requeued by submitit",
            )
            rd.log("preempted or at the time limit: requeued by submitit; the job resumes from the last checkpoint")

    def record_end(self, state: str, how: str, job_id: str | None) -> None:
        """Record at once that the process training this run has ended without finishing it (a packed job's child:
        `failed` when killed by a signal or exiting with an error, `interrupted` when stopped by a SIGTERM of its
        own), saying how and naming the job (`job`), so that `repro sweep status` says so while the job goes on with
        other runs (repro/sweep/plan.py). Done as the run's writer: its lock is taken (a killed child's lock is taken
        over, the temp files it left swept) and released; while another live process holds the run, nothing is
        written."""
        rd = self.run_dir()
        if rd.is_done():
            return
        try:
            lock = rd.hold()
        except runlock.LockHeld:
            return
        with lock:
            status = rd.read_status() or {}
            own = status.get("message") if status.get("state") in ("failed", "interrupted") else ""  # its words
            where = f" in SLURM job {job_id}" if job_id else ""
            message = f"{how}{where}" + (f": {own}" if own else "")
            rd.write_status(state, epoch=int(status.get("epoch") or 0), message=message, job=job_id)
            rd.log(f"{state}: {message}; the next `repro sweep` resumes it from its last checkpoint")


def _match_threads_to_allocation() -> None:
    """Use the CPUs SLURM gave the job, not every core of the node."""
    cpus = os.environ.get("SLURM_CPUS_PER_TASK")
    if cpus and cpus.isdigit():
        torch.set_num_threads(max(1, int(cpus)))
