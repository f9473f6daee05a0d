"""A packed job: several planned runs trained side by side on one GPU (`--runs-per-gpu K`), one SLURM job (or one
element of a job array) for K runs.

A packed job is a list of one-run jobs (repro/sweep/executors/job.py: TrainJob), each trained by its own child
process (`python -m repro.sweep.executors.packed RUN_ID CONFIG OUTPUT_ROOT THREADS`), so each run keeps its own run
directory, its own run lock (one writer, repro/runs/runlock.py) and its own W&B run, exactly as when it is a job of
its own. One run's failure does not stop its siblings: the job waits for every child, then fails if any run failed
(so that `afterok` dependents never start after a failed run: repro/sweep/executors/slurm/submit.py packs only runs
that wait for the same jobs). Preemption and the time limit: SLURM's SIGTERM reaches every child, each stops at a
clean point (status `interrupted`, its last epoch checkpoint kept); submitit's USR2 reaches this parent, whose
`checkpoint()` requeues the whole packed job, and the requeued job resumes every run not yet done from its
checkpoint (a done run returns at once, already done).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import submitit
import torch

from repro.errors import Interrupted, UserError
from repro.sweep.executors.job import REQUEUE_WAIT_S, TrainJob

INTERRUPTED_EXIT = 75  # a child stopped at a clean point (SIGTERM): the run resumes; not a failure of the run
FAILED_EXIT = 1


class PackedJob(submitit.helpers.Checkpointable):
    """The callable of a packed SLURM job: K one-run jobs, each in a child process, all at once."""

    def __init__(self, jobs: Sequence[TrainJob]) -> None:
        self.jobs = list(jobs)

    @property
    def run_ids(self) -> list[str]:
        return [job.run_id for job in self.jobs]

    def __call__(self) -> dict[str, Any]:
        codes = train_side_by_side(self.jobs, threads=_threads_per_run(len(self.jobs)))
        interrupted = [rid for rid, code in codes.items() if code == INTERRUPTED_EXIT or code < 0]
        failed = [rid for rid, code in codes.items() if code not in (0, INTERRUPTED_EXIT) and code >= 0]
        if interrupted and os.environ.get("SLURM_JOB_ID"):
            # As a one-run job does (job.py): a SIGTERM under SLURM is followed by submitit's requeue signal on
            # preemption; wait for it rather than end the job.
            time.sleep(REQUEUE_WAIT_S)
        if interrupted or failed:
            raise RuntimeError(
                f"packed job: {len(failed)} run(s) failed ({', '.join(failed) or 'none'}), {len(interrupted)} "
                f"interrupted ({', '.join(interrupted) or 'none'}); the other runs are done. The next `repro sweep` "
                "resubmits only the runs not done (each resumes from its checkpoint)."
            )
        return {"run_ids": self.run_ids, "exit_codes": codes}

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        for job in self.jobs:  # each run not done and not held by a live child is marked requeued
            job.record_requeue()
        return super().checkpoint(*args, **kwargs)


def train_side_by_side(jobs: Sequence[TrainJob], *, threads: int) -> dict[str, int]:
    """Start one child process per run, wait for all; {run id: exit code} (0 done, INTERRUPTED_EXIT stopped
    cleanly, negative: killed by that signal, anything else failed: its message is on this job's stderr)."""
    children = {
        job.run_id: subprocess.Popen(
            [sys.executable, "-m", __name__, job.run_id, job.config_file, job.output_root, str(threads)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_package_root(), _pythonpath()]))},
        )
        for job in jobs
    }
    return {rid: child.wait() for rid, child in children.items()}


class GpuSlots:
    """The local executor's packing (local.py): which CUDA GPU each running run uses, the one with the fewest runs
    (none without CUDA)."""

    def __init__(self) -> None:
        self.count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        self.of: dict[str, int] = {}

    def take(self, run_id: str) -> int | None:
        if not self.count:
            return None
        used = [list(self.of.values()).count(gpu) for gpu in range(self.count)]
        self.of[run_id] = used.index(min(used))
        return self.of[run_id]

    def release(self, run_id: str) -> None:
        self.of.pop(run_id, None)


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[3])  # the folder holding `repro/`: the child imports this copy


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def _threads_per_run(runs: int) -> int:
    """The job's CPUs (SLURM_CPUS_PER_TASK, else this process's cores) shared among its runs."""
    cpus = os.environ.get("SLURM_CPUS_PER_TASK", "")
    total = int(cpus) if cpus.isdigit() else len(os.sched_getaffinity(0))
    return max(1, total // max(runs, 1))


def _child(run_id: str, config_file: str, output_root: str, threads: int) -> int:
    """One run of a packed job, in its own process: submitit's USR2 is the parent's to handle (it requeues the whole
    job); the SIGTERM that follows stops this run cleanly (repro/train.py)."""
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    torch.set_num_threads(threads)
    try:
        TrainJob(run_id, config_file, output_root).train()
    except Interrupted:
        return INTERRUPTED_EXIT
    except UserError as exc:
        print(f"run {run_id} failed: {exc}", file=sys.stderr, flush=True)
        return FAILED_EXIT
    return 0


if __name__ == "__main__":
    run_id_, config_file_, output_root_, threads_ = sys.argv[1:5]
    sys.exit(_child(run_id_, config_file_, output_root_, int(threads_)))
