"""A packed job: several planned runs trained side by side on one GPU (`--runs-per-gpu K`), one SLURM job (or one
element of a job array) for K runs.

A packed job is a list of one-run jobs (repro/sweep/executors/job.py: TrainJob), each trained by its own child
process (`python -m repro.sweep.executors.packed RUN_ID CONFIG OUTPUT_ROOT THREADS`), so each run keeps its own run
directory, its own run lock (one writer, repro/runs/runlock.py) and its own W&B run, exactly as when it is a job of
its own. One run's failure does not stop its siblings: the job watches every child, then fails if any run failed
(so that `afterok` dependents never start after a failed run: repro/sweep/executors/slurm/submit.py packs only runs
that wait for the same jobs).

A child that ends any other way than done or stopped by the preemption signal (killed by SIGKILL, by the kernel's
out-of-memory killer, which sends SIGKILL, or by any signal but SIGTERM; or exiting with an error) is recorded failed
at once, in its run's status with the signal and this job's id (`TrainJob.record_end`), so `repro sweep status` says
so within a second or two while the siblings still train (repro/sweep/plan.py), instead of calling it running until
the whole job ends; a child stopped by a SIGTERM sent to it alone (not to the job) is recorded `interrupted` the same
way. The job ends as soon as no child lives and no requeue can be pending.

Preemption and the time limit: SLURM's SIGTERM reaches every process of the job; each child stops at a clean point
(status `interrupted`, its last epoch checkpoint kept); submitit's USR2 reaches this parent, whose `checkpoint()`
requeues the whole packed job, and the requeued job resumes every run not yet done from its checkpoint (a done run
returns at once, already done). Only when this parent itself received SIGTERM does it wait for that USR2
(`REQUEUE_WAIT_S`) after its children stopped; a child stopped by a SIGTERM of its own (sent to it alone) ends the
job at once, its run `interrupted` and resumed by the next `repro sweep`. A child dies with this parent (Linux's
parent-death signal: SIGTERM, a clean stop), so no child trains on without the job that owns it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Sequence

import submitit
import torch

from repro.checkout import CHECKOUT_ROOT
from repro.errors import Interrupted, UserError
from repro.runs import runlock
from repro.sweep.executors.job import REQUEUE_WAIT_S, TrainJob
from repro.sweep.executors.orphans import arm_parent_death_signal

INTERRUPTED_EXIT = 75  # a child stopped at a clean point (SIGTERM): the run resumes; not a failure of the run
FAILED_EXIT = 1
PREEMPTION_SIGNAL = signal.SIGTERM  # what SLURM sends every process of a job it preempts or times out
WATCH_S = 0.2  # how often the parent looks at its children: a dead one is recorded within about this


class PackedJob(submitit.helpers.Checkpointable):
    """The callable of a packed SLURM job: K one-run jobs, each in a child process, all at once."""

    def __init__(self, jobs: Sequence[TrainJob]) -> None:
        self.jobs = list(jobs)

    @property
    def run_ids(self) -> list[str]:
        return [job.run_id for job in self.jobs]

    def __call__(self) -> dict[str, Any]:
        job_id = runlock.slurm_job_id()
        with PreemptionSeen() as preemption:

            def record(job: TrainJob, code: int) -> None:  # a child just ended: what its run's status says
                if not stopped_cleanly(code):
                    job.record_end("failed", _how_it_ended(code), job_id)
                elif not preemption.seen:  # a SIGTERM to the child alone: no requeue follows
                    job.record_end("interrupted", "its process alone was stopped by SIGTERM", job_id)

            codes = train_side_by_side(self.jobs, threads=_threads_per_run(len(self.jobs)), ended=record)
        interrupted = [rid for rid, code in codes.items() if stopped_cleanly(code)]
        failed = [rid for rid, code in codes.items() if code != 0 and not stopped_cleanly(code)]
        if interrupted and preemption.seen and os.environ.get("SLURM_JOB_ID"):
            # As a one-run job does (job.py): this job got SLURM's SIGTERM, which on preemption is followed by
            # submitit's requeue signal; wait for it rather than end the job. Nothing else waits.
            wait_for_requeue()
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


def stopped_cleanly(code: int) -> bool:
    """A child's exit code that means its run stopped at a clean point and resumes (SLURM's SIGTERM), not failed."""
    return code in (INTERRUPTED_EXIT, -PREEMPTION_SIGNAL)


def wait_for_requeue() -> None:
    """Sleep while submitit's requeue signal may still come (its handler ends this process when it does)."""
    time.sleep(REQUEUE_WAIT_S)


class PreemptionSeen:
    """While entered, notes whether this process received SIGTERM; the handler it replaces (submitit's, which logs
    and carries on) still runs. Outside the main thread it notes nothing."""

    def __enter__(self) -> PreemptionSeen:
        self.seen = False
        self._previous: Any = None
        if _is_main_thread():
            self._previous = signal.signal(PREEMPTION_SIGNAL, self._note)
        return self

    def _note(self, signum: int, frame: Any) -> None:
        self.seen = True
        if callable(self._previous):
            self._previous(signum, frame)
        elif self._previous == signal.SIG_DFL:  # outside submitit: end as the signal would have ended it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(PREEMPTION_SIGNAL, self._previous)


def train_side_by_side(
    jobs: Sequence[TrainJob], *, threads: int, ended: Callable[[TrainJob, int], None] | None = None
) -> dict[str, int]:
    """Start one child process per run and watch them until all have ended; {run id: exit code} (0 done,
    INTERRUPTED_EXIT stopped cleanly, negative: killed by that signal, anything else failed: its message is on this
    job's stderr). `ended(job, code)` is called for each child that ended without its run done, the moment it is
    seen to end."""
    children = {
        job.run_id: (
            job,
            subprocess.Popen(
                [sys.executable, "-m", __name__, job.run_id, job.config_file, job.output_root, str(threads)],
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_package_root(), _pythonpath()]))},
            ),
        )
        for job in jobs
    }
    codes: dict[str, int] = {}
    while len(codes) < len(children):
        for rid, (job, child) in children.items():
            if rid not in codes and child.poll() is not None:
                codes[rid] = child.returncode
                if child.returncode != 0 and ended is not None:
                    ended(job, child.returncode)
        if len(codes) < len(children):
            time.sleep(WATCH_S)
    return codes


def _how_it_ended(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        oom = " (the kernel's out-of-memory killer sends it too)" if -code == signal.SIGKILL else ""
        return f"its process was killed by {name}{oom}"
    return f"its process exited with status {code} (the job's log says why)"


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
    return str(CHECKOUT_ROOT)  # the folder holding `repro/`: the child imports this copy


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _threads_per_run(runs: int) -> int:
    """The job's CPUs (SLURM_CPUS_PER_TASK, else this process's cores) shared among its runs."""
    cpus = os.environ.get("SLURM_CPUS_PER_TASK", "")
    total = int(cpus) if cpus.isdigit() else len(os.sched_getaffinity(0))
    return max(1, total // max(runs, 1))


def _child(run_id: str, config_file: str, output_root: str, threads: int) -> int:
    """One run of a packed job, in its own process: submitit's USR2 is the parent's to handle (it requeues the whole
    job); the SIGTERM that follows stops this run cleanly (repro/train.py)."""
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    arm_parent_death_signal(PREEMPTION_SIGNAL)  # the job's process gone (killed alone): stop cleanly, no orphan
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
