"""No worker outlives its command (repro/sweep/executors/orphans.py): `kill -9` of `repro sweep --jobs 2` while both
runs train leaves no process of it alive, both runs `interrupted` with their locks free, and the same command then
finishes every run from its checkpoint, each remaining epoch trained once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from repro.runs.processes import is_alive
from repro.sweep.executors.orphans import arm_parent_death_signal
from sweep_subprocess import (
    HANG_GUARD_S,
    REPO,
    frozen_workers,
    planned_run_dirs,
    subprocess_env,
    sweep_command,
    two_seed_sweep,
    wait_for,
)

EPOCHS = 40  # enough that neither run can finish between two polls of the test (a few ms apart)


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (the forkserver, the resource tracker, the workers), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
@pytest.mark.slow
@pytest.mark.e2e
def test_kill_9_of_a_parallel_sweep_leaves_no_process_and_a_rerun_finishes(tmp_path):
    path = two_seed_sweep(tmp_path, "orphans")
    out = tmp_path / "out"
    rds = planned_run_dirs(path, out, epochs=EPOCHS)
    command, env = sweep_command(path, out, epochs=EPOCHS), subprocess_env()
    log = tmp_path / "killed.log"  # a file, not a pipe: the workers inherit it, and must not hold the test up
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    # each worker frozen past its first epoch: neither run can finish before the kill
    with frozen_workers(proc, rds, [0, 0], output=log.read_text, guard_s=HANG_GUARD_S) as frozen:
        left = _descendants(proc.pid)
        assert frozen <= left and len(left) >= 3  # the workers, and the forkserver above them
        proc.kill()  # SIGKILL: no handler of the command runs
        proc.wait()
    wait_for(
        lambda: not any(is_alive(pid) for pid in left),
        f"every process of the command ({sorted(left)}) exiting",
        guard_s=HANG_GUARD_S,
    )
    reached = []
    for rd in rds:
        status = json.loads(rd.status_file.read_text())
        assert status["state"] == "interrupted" and 1 <= status["epoch"] < EPOCHS, status
        assert not rd.lock_file.exists() and not rd.summary_file.exists()
        reached.append(status["epoch"])

    rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    for rd, at in zip(rds, reached):
        assert rd.read_summary() is not None and rd.read_status()["state"] == "done"
        resumed = f"resumed from checkpoint at epoch {at}"
        after = rd.log_file.read_text().split(resumed, 1)[1]  # what the re-run trained: from `at` on, each once
        trained = [
            line.split(" epoch ", 1)[1].split()[0] for line in after.splitlines() if " epoch " in line and "lr=" in line
        ]
        assert trained == [f"{e}/{EPOCHS}" for e in range(at + 1, EPOCHS + 1)]
        assert [line for line in rerun.stdout.splitlines() if rd.run_id in line and ": done in" in line] != []
    assert rerun.stdout.count(": done in") == len(rds) and ": training" in rerun.stdout  # each trained once


def test_the_parent_death_signal_is_armed_where_linux_offers_it():
    """prctl through ctypes: armed in a child on Linux (the child dies with its parent), refused nowhere else."""
    code = (
        "import os, signal, sys, time; from repro.sweep.executors.orphans import arm_parent_death_signal as a; "
        "ok = a(signal.SIGTERM); print(ok, flush=True); time.sleep(0 if not ok else 600)"
    )
    script = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {code!r}]).wait()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if not sys.platform.startswith("linux"):
        assert arm_parent_death_signal(signal.SIGTERM) is False
        return
    middle = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    assert middle.stdout.readline().strip() == "True"
    grandchild = sorted(_descendants(middle.pid))
    assert len(grandchild) == 1
    middle.kill()
    middle.wait()
    gone = lambda: not is_alive(grandchild[0])  # noqa: E731
    wait_for(gone, "the child exiting with its parent", guard_s=HANG_GUARD_S, poll_s=0.05)
