"""The one liveness check (repro/runs/processes.py), on real processes: a running child, one that exited and was
reaped, a zombie (exited, not yet reaped: it can write nothing more), and a pid whose recorded start time is not the
running process's (a reused pid). The run lock's stale takeover and the local executor's workers both ask it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from repro.runs.processes import is_alive, process_start

LINUX = sys.platform.startswith("linux")


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_running_process_is_alive_and_a_reaped_one_is_not():
    child = _sleeper()
    try:
        assert is_alive(child.pid) and is_alive(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert not is_alive(child.pid)


@pytest.mark.skipif(not LINUX, reason="needs /proc")
def test_a_zombie_is_gone_and_a_recorded_start_names_the_process():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 600  # a hang guard: the loop ends when the child exits
    while is_alive(child.pid) and time.monotonic() < deadline:  # exited but not reaped: a zombie
        time.sleep(0.01)
    assert not is_alive(child.pid)
    os.kill(child.pid, 0)  # the pid still exists (kill(pid, 0) alone would call it alive)
    child.wait()
    start = process_start(os.getpid())
    assert start is not None and start.isdigit()
    assert is_alive(os.getpid(), start)
    assert not is_alive(os.getpid(), str(int(start) + 1))  # the same pid, started at another time: not that process
