"""filelock's SoftFileLease against what repro/runs/runlock.py must do (tests/runs/test_runlock.py,
tests/runs/test_kill9.py): the evaluation behind docs/design-notes.md, "The run lock". One line
per scenario.

    .venv/bin/python -m benchmarks.softfilelease_eval [DIR]     (DIR: where the lock files go; a temp dir by default)

Scenario 2 simulates a file system that refuses renameat2(RENAME_EXCHANGE) (NFS, Lustre, overlayfs between layers)
by making filelock's exchange call answer EINVAL, as those file systems do.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import filelock
from filelock import SoftFileLease, Timeout, _util

HOLD = (
    "import sys, time; from filelock import SoftFileLease; "
    "l = SoftFileLease(sys.argv[1], lease_duration=float(sys.argv[2]), heartbeat_interval=float(sys.argv[3]), "
    "on_compromise=lambda c: print('compromised:', c.reason, flush=True)); l.acquire(); print('held', flush=True); "
    "time.sleep(3600)"
)


def holder(path: Path, duration: float = 600.0, heartbeat: float = 200.0) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(duration), str(heartbeat)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def attempt(path: Path, duration: float, timeout: float) -> str:
    lock = SoftFileLease(str(path), lease_duration=duration, timeout=timeout)
    t0 = time.monotonic()
    try:
        lock.acquire()
    except Timeout:
        return f"refused (Timeout) after {time.monotonic() - t0:.1f} s"
    lock.release()
    return f"acquired after {time.monotonic() - t0:.1f} s"


def main(root: Path) -> None:
    print(f"filelock {filelock.__version__}")
    # 1. kill -9 of the holder, on this host, on a local disk
    path = root / "kill9.lock"
    proc = holder(path)
    proc.kill(), proc.wait()
    print("1 holder kill -9'd, this host, local disk, no wait:", attempt(path, 600, 0))

    # 2. the same where the file system refuses RENAME_EXCHANGE
    path = root / "nfs.lock"
    proc = holder(path)
    proc.kill(), proc.wait()
    real = _util._rename_call
    _util._rename_call = lambda: ((lambda source, target, flags: errno.EINVAL), 2)
    try:
        print(
            "2 holder kill -9'd, no RENAME_EXCHANGE (NFS-like), waiting 5 s:",
            attempt(path, 600, 5),
            "| its marker is still there:",
            path.exists(),
        )
    finally:
        _util._rename_call = real

    # 3. a holder on another host, silent for an hour (its node died)
    path = root / "remote.lock"
    path.write_text("filelock/2\npid=4242\nhost=node-17\nmode=lease\ntoken=abc\nduration=5.0\n")
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))
    print("3a remote holder silent for an hour, no wait:", attempt(path, 5.0, 0))
    print("3b the same, waiting up to 20 s (lease 5 s):", attempt(path, 5.0, 20))

    # 4. what a refused process can tell the user about the holder
    path = root / "message.lock"
    proc = holder(path)
    owner = SoftFileLease(str(path), lease_duration=600).owner
    print(
        f"4 the holder as a waiter reads it: pid {owner.pid}, host {owner.hostname}, mode {owner.mode}; the marker "
        f"has the fields {[line.split('=')[0] for line in path.read_text().splitlines()[1:]]} (no SLURM job, no "
        "start time, no heartbeat time but the file's mtime)"
    )
    proc.kill(), proc.wait()

    # 5. four racing acquirers
    path, inside, refused = root / "race.lock", [], []
    barrier = threading.Barrier(4)

    def contender() -> None:
        barrier.wait()
        lock = SoftFileLease(str(path), lease_duration=600, timeout=0)
        try:
            with lock:
                inside.append(1)
                while len(refused) < 3:
                    time.sleep(0.01)
        except Timeout:
            refused.append(1)

    threads = [threading.Thread(target=contender) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    left = [p.name for p in root.iterdir() if p.name.startswith("race")]
    print(f"5 four racing threads: {len(inside)} inside, {len(refused)} refused, files left: {left}")

    # 6. a suspended holder whose lease was taken: is it told when it wakes up?
    path = root / "suspend.lock"
    proc = holder(path, duration=2.0, heartbeat=0.5)
    os.kill(proc.pid, signal.SIGSTOP)
    print("6 a waiter takes the suspended holder's lease:", attempt(path, 2.0, 60).replace("acquired", "taken"))
    thief = holder(path, duration=2.0, heartbeat=0.5)
    os.kill(proc.pid, signal.SIGCONT)
    print("  the holder, resumed:", proc.stdout.readline().strip())
    proc.kill(), thief.kill()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        target.mkdir(parents=True, exist_ok=True)
        main(target)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
