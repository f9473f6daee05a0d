"""One expensive thing per pytest session (the local SLURM cluster, `slurm_cluster.py`), shared by the session's
pytest-xdist workers: started by the first worker that asks for it, stopped by the last one holding it.

The workers are processes, so they agree through files in a folder of the session's base temp directory (each
worker's base temp is a child of it; without xdist the process's own): a lock file held with flock while a worker
reads and changes the state file beside it, which names the thing's directory and the PIDs of the workers holding
it. A worker holds it from its first request to the end of its session, so the last one out stops it only when no
other worker's test can be using it; a worker that asks after that starts a fresh one. A holder that died without
releasing (its PID gone) is dropped by the next worker to take the lock. Waiting for the lock ends on an event: the
holder unlocks, or exits and the kernel releases its lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STATE = "state.json"


def pid_alive(pid: int) -> bool:
    """True while process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    # the state is the field after "(comm)", which may itself hold spaces or parentheses
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def session_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The folder `name` that every worker of this pytest session finds at the same path, and no other session."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # xdist: <session base>/popen-gwN
    folder = shared / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def _locked(folder: Path) -> Iterator[dict]:
    """The state under the folder's lock; what the caller leaves in the dict is written back (atomically)."""
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            path = folder / STATE
            state = json.loads(path.read_text()) if path.exists() else {}
            yield state
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _other_live_holders(state: dict) -> list[int]:
    return [pid for pid in state.get("holders", []) if pid != os.getpid() and pid_alive(pid)]


def acquire(
    folder: Path, start: Callable[[Path], object], running: Callable[[Path], bool], stop: Callable[[Path], None]
) -> Path:
    """The shared thing's directory, this process recorded as a holder: the running one, or one started now in a
    fresh directory under `folder` by `start(directory)` (which raises if it cannot; nothing is recorded then). One
    found broken (what ran it crashed) is stopped first."""
    with _locked(folder) as state:
        holders = _other_live_holders(state)
        directory = Path(state["dir"]) if state.get("dir") else None
        if directory is None or not running(directory):
            if directory is not None:
                stop(directory)
            state.clear()
            directory = Path(tempfile.mkdtemp(prefix="c", dir=folder))  # short: unix socket paths live under it
            start(directory)
        state.update(dir=str(directory), holders=[*holders, os.getpid()])
        return directory


def release(folder: Path, stop: Callable[[Path], None]) -> None:
    """This process no longer holds the shared thing; the last holder stops it with `stop(directory)`."""
    with _locked(folder) as state:
        holders = _other_live_holders(state)
        if holders:
            state["holders"] = holders
            return
        directory = state.get("dir")
        state.clear()
        if directory:
            stop(Path(directory))
