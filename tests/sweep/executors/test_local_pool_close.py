"""The local pool's end (repro/sweep/executors/local_pool.py, `close_pool`): a worker that holds the lock of a run
whose status has recorded its end is not training, and one stuck alive is killed rather than waited for forever.

The case it guards: a SIGTERM'd run's clean-up cut by a second SIGTERM (the pool's own, when another worker died
idle in its call queue) left its lock behind, and its worker blocked on the queue lock the dead one held; the
shutdown waited for that "training" worker and a Ctrl-C'd sweep hung.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from repro.runs.rundir import RunDir
from repro.sweep.executors import local_pool
from repro.sweep.executors.local_pool import STUCK_AFTER_S, close_pool

HANG_GUARD_S = 10 * STUCK_AFTER_S


def _stuck(pid_file: str) -> None:
    """A worker that will not end by itself: SIGTERM ignored, asleep, after saying its pid."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(pid_file).write_text(str(os.getpid()))
    while True:
        time.sleep(1.0)


def _run_dir(root: Path, pid: int, lock_started: float, state: str | None, updated: float) -> RunDir:
    rd = RunDir(root)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.lock_file.write_text(json.dumps({"pid": pid, "host": "here", "started": lock_started, "heartbeat": 0.0}))
    if state is not None:
        rd.write_status(state, epoch=3)
        status = rd.read_status() or {}
        rd.status_file.write_text(json.dumps({**status, "updated": updated}))
    return rd


@pytest.mark.parametrize(
    ("state", "updated", "ended"),
    [
        ("interrupted", 20.0, True),  # its holder's attempt stopped, after the lock was taken
        ("done", 20.0, True),
        ("running", 20.0, False),  # training
        (None, 0.0, False),  # no status yet: setting up
        ("interrupted", 5.0, False),  # a resumed run's last attempt, before this lock: setting up again
    ],
)
def test_a_run_has_ended_only_when_its_status_records_an_end_after_its_lock_was_taken(tmp_path, state, updated, ended):
    rd = _run_dir(tmp_path / "run", pid=1, lock_started=10.0, state=state, updated=updated)
    assert local_pool._ended(rd) is ended


@pytest.mark.slow
def test_a_worker_left_holding_an_ended_runs_lock_is_killed_and_the_pool_closes(tmp_path):
    pid_file = tmp_path / "pid"
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    pool.submit(_stuck, str(pid_file))
    deadline = time.monotonic() + HANG_GUARD_S
    while not pid_file.exists() and time.monotonic() < deadline:  # held at a known point: the worker said its pid
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    rd = _run_dir(tmp_path / "run", pid=pid, lock_started=time.time() - 60, state="interrupted", updated=time.time())

    closing = threading.Thread(target=close_pool, args=(pool, [rd]), daemon=True)
    closing.start()
    closing.join(HANG_GUARD_S)
    stuck = closing.is_alive()
    if stuck:
        os.kill(pid, signal.SIGKILL)
    assert not stuck, "close_pool waited for a worker whose run had recorded its end"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
