"""One writer per run (repro/runs/runlock.py): a second `repro train` of the same run exits 3 naming the holder, or
waits
with --wait; stale locks (dead process here, no heartbeat from another host) are taken over and logged; a holder
whose lock was taken over stops writing; two sweeps never submit a run twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from forked_repro import fork_repro
from presets import CLEAN
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs import runlock
from repro.runs.rundir import RunDir
from repro.runs.runlock import FileLock, LockHeld, LockLost

TINY = [*CLEAN, "progress=plain", "method=baseline"]


HANG_GUARD_S = 600  # waits end on events; this bound only turns a hang into a failure


def wait_for(predicate, timeout: float = HANG_GUARD_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def fake_holder(path: Path, **fields) -> dict:
    now = time.time()
    record = {
        "host": runlock.HOST,
        "pid": os.getpid(),
        "slurm_job_id": None,
        "started": now,
        "heartbeat": now,
        "token": "someone-else",
        **fields,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return record


@pytest.mark.slow
def test_second_train_of_a_running_run_exits_3_naming_the_holder_then_waits(tmp_path, capsys):
    overrides = [*TINY, "optim.epochs=6", f"output_root={tmp_path}"]
    rd = RunDir.for_config(to_container(load_config(overrides)))
    # both trains are real processes, forked from this one (tests/forked_repro.py: no second import of torch)
    first = fork_repro(["train", *overrides], stdout=tmp_path / "first.out", stderr=tmp_path / "first.err")
    try:
        wait_for(lambda: rd.lock_file.exists() or first.poll() is not None)
        os.kill(first.pid, signal.SIGSTOP)  # freeze the writer mid-run, so the test does not race its speed
        capsys.readouterr()
        # the refused second train runs in this process: it stops at the lock, before any work
        assert main(["train", *overrides]) == 3
        err = capsys.readouterr().err
        assert err.startswith("error: ") and f"pid {first.pid} on host {runlock.HOST}" in err
        assert "Traceback" not in err and "--wait" in err
        log, out = tmp_path / "waiter.err", tmp_path / "waiter.out"
        waiter = fork_repro(["train", *overrides, "--wait"], stdout=out, stderr=log)
        try:
            wait_for(lambda: "waiting for it" in log.read_text() or waiter.poll() is not None)
            assert waiter.poll() is None, log.read_text()  # waiting for the frozen writer
            os.kill(first.pid, signal.SIGCONT)
            assert waiter.wait(HANG_GUARD_S) == 0, log.read_text()
        finally:
            waiter.kill()
        assert "already done" in out.read_text()
    finally:
        os.kill(first.pid, signal.SIGCONT)
        first.wait(HANG_GUARD_S)
    assert first.returncode == 0, (tmp_path / "first.err").read_text()
    epochs = [line for line in rd.log_file.read_text().splitlines() if "epoch" in line and "resumed" not in line]
    assert len(epochs) == 6, epochs  # one writer: every epoch logged once
    assert not rd.lock_file.exists()


def test_lock_of_a_dead_process_on_this_host_is_taken_over_and_logged(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = tmp_path / "writer.lock"
    fake_holder(path, pid=int(dead.stdout))
    lines: list[str] = []
    with FileLock(path, what="run x", log=lines.append).acquire():
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()
    assert lines and "took over" in lines[0] and f"process {int(dead.stdout)} on this host is gone" in lines[0]


def test_lock_from_another_host_is_stale_only_after_the_heartbeat_timeout(tmp_path):
    path = tmp_path / "writer.lock"
    fake_holder(path, host="node-17", pid=4242, slurm_job_id="99_3", heartbeat=time.time() - 30)
    with pytest.raises(LockHeld, match=r"pid 4242 on host node-17 \(SLURM job 99_3\)") as info:
        FileLock(path, what="run x", stale_after=3600).acquire()  # 30 s silent (however slow this test runs)
    assert info.value.exit_code == 3
    lines: list[str] = []
    with FileLock(path, what="run x", stale_after=10, log=lines.append).acquire():
        pass
    assert re.search(r"no heartbeat for \d+ s \(limit 10 s", lines[0]), lines


@pytest.mark.slow
def test_wait_gives_up_after_its_limit_and_heartbeat_keeps_a_live_lock_fresh(tmp_path):
    path = tmp_path / "writer.lock"
    holder = FileLock(path, what="run x", heartbeat=0.1).acquire()
    first = json.loads(path.read_text())["heartbeat"]
    wait_for(lambda: json.loads(path.read_text())["heartbeat"] > first)  # the heartbeat thread refreshes it
    t0 = time.monotonic()
    with pytest.raises(LockHeld):
        FileLock(path, what="run x", stale_after=0.3).acquire(wait=1.0)  # same host, alive: never stale
    assert time.monotonic() - t0 >= 1.0
    holder.release()
    assert not path.exists()


def test_a_holder_whose_lock_was_taken_over_stops_writing(tmp_path):
    path = tmp_path / "writer.lock"
    holder = FileLock(path, what="run x", heartbeat=0.1).acquire()
    fake_holder(path, host="elsewhere", token="thief")  # as if our heartbeats had stopped long enough
    wait_for(lambda: holder.lost is not None)
    with pytest.raises(LockLost, match="taken over"):
        holder.check()
    holder.release()
    assert json.loads(path.read_text())["token"] == "thief"  # the new holder's lock is left alone


def test_racing_acquirers_get_one_lock(tmp_path):
    path = tmp_path / "writer.lock"
    inside, errors = [], []
    barrier = threading.Barrier(4)

    def contender() -> None:
        barrier.wait()
        try:
            with FileLock(path, what="run x").acquire():
                inside.append(1)
                wait_for(lambda: len(errors) == 3)  # hold it until every other contender was refused
        except LockHeld:
            errors.append(1)

    threads = [threading.Thread(target=contender) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(inside) == 1 and len(errors) == 3
    assert os.listdir(tmp_path) == []  # no lock, no temp file left
