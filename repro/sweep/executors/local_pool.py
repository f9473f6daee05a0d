"""The local executor's worker processes and their pool (repro/sweep/executors/local.py schedules the runs): a
worker's start (the terminal's Ctrl-C is its parent's; it stops when the command dies; its own torch threads) and one
run's training in it, the parent's SIGINT shield while it starts the forkserver, and the pool's end: one SIGTERM to
every worker, then a shutdown that waits for the workers that train and kills those stuck without a run."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from repro.runs import runlock
from repro.runs.rundir import RunDir
from repro.sweep.executors import job, orphans

# Workers print nothing of their own (no progress bars interleaving): the parent prints one line per run. Not part
# of a run's id.
QUIET = "none"
STUCK_AFTER_S = 5.0  # a worker alive this long after its run ended, the pool shutting down, is stuck (close_pool)
PRELOAD = (orphans.FORKSERVER_PRELOAD, "torch", "repro.sweep.executors.job", "repro.config", "repro.train")


# ---------------------------------------------------------------------------------------------- worker process
def init_worker(threads: int, command_pid: int) -> None:
    """A worker: the terminal's Ctrl-C is its parent's to handle (the parent stops it with SIGTERM, which a training
    run turns into a clean `interrupted`); it stops when the command dies (repro/sweep/executors/orphans.py); its own
    torch threads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    orphans.stop_with_command(command_pid)

    torch.set_num_threads(threads)


def train_one(config_file: Path, gpu: int | None = None) -> dict[str, Any]:
    if gpu is not None:  # `device: cuda` is the current device: this run's GPU
        torch.cuda.set_device(gpu)
    with orphans.one_run():
        return job.run_planned(config_file, progress=QUIET).summary


# --------------------------------------------------------------------------------------------- parent signals
@contextmanager
def sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to protect
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def close_pool(pool: ProcessPoolExecutor, in_flight: Sequence[RunDir]) -> None:
    """Shut the pool down and wait for its workers. A worker that trains (holds the lock of a run in flight whose
    status has not recorded its end) is waited for: it stops cleanly. One that trains nothing yet lives on for
    STUCK_AFTER_S has nothing left to write and is killed: a worker that exits on SIGTERM while it holds one of the
    pool's queue locks (idle in its call queue, or sending its result) leaves the others blocked on that lock
    forever, and a plain shutdown with them. A run's lock alone does not prove its worker trains: a second SIGTERM
    (the pool's own, when another worker died) can cut a stopped run's clean-up before its lock is released, and the
    worker then waits for work under the lock's name; its next writer takes the lock over (its process gone)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    idle_since: dict[int, float] = {}
    while alive := [p for p in workers if p.is_alive()]:
        training = {_lock_holder(rd) for rd in in_flight if not _ended(rd)}
        now = time.monotonic()
        for process in alive:
            if process.pid in training:
                idle_since.pop(process.pid, None)
            elif now - idle_since.setdefault(process.pid, now) > STUCK_AFTER_S:
                try:
                    os.kill(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.1)
    pool.shutdown(wait=True)


def _ended(rd: RunDir) -> bool:
    """Whether the run's status records the end of its lock holder's attempt: a state other than `running`, written
    after the lock was taken (a resumed run's old `interrupted` is its last attempt's, while it sets up again)."""
    status = rd.read_status() or {}
    holder = runlock.FileLock.read_file(rd.lock_file) or {}
    started, updated = holder.get("started"), status.get("updated")
    if status.get("state") in (None, "running") or not isinstance(started, (int, float)):
        return False
    return isinstance(updated, (int, float)) and updated >= started


def _lock_holder(rd: RunDir) -> int | None:
    pid = (runlock.FileLock.read_file(rd.lock_file) or {}).get("pid")
    return pid if isinstance(pid, int) else None


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """One SIGTERM to every worker (a running run stops cleanly and records `interrupted`; an idle one exits)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            try:
                os.kill(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
