"""One writer at a time: a lock file that holds on the shared file systems clusters use (NFS, Lustre).

`flock` is not enough there (it is local to a node, or silently a no-op on some mounts), so the lock is a file made
by exclusive create (O_CREAT | O_EXCL, atomic on NFSv3+ and Lustre) holding JSON {host, pid, slurm_job_id,
started, heartbeat, token}. A daemon thread refreshes the heartbeat. A lock is stale, and taken over, when its
holder is on this host and its process is gone, or when it is on another host and its heartbeat is older than
`REPRO_LOCK_STALE_AFTER` seconds (clocks are assumed in sync, as NTP keeps them on clusters). Used for run
directories (repro/train.py) and the sweep job registry (repro/sweep/executors/slurm/registry.py).
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from repro.errors import UserError
from repro.runs.io import atomic_write_json
from repro.runs.processes import is_alive, process_start

EXIT_HELD = 3  # `repro` exit code when another process holds the run (docs/training.md, docs/architecture.md)
STALE_AFTER_S = float(os.environ.get("REPRO_LOCK_STALE_AFTER", "600"))
HEARTBEAT_S = float(os.environ.get("REPRO_LOCK_HEARTBEAT", "30"))
POLL_S = 0.5
HOST = socket.gethostname()


class LockHeld(UserError):
    """Another live process holds the lock (exit code 3)."""

    exit_code = EXIT_HELD


class LockLost(UserError):
    """Our lock was taken over (we looked dead: e.g. the machine was suspended); stop writing at once."""

    exit_code = EXIT_HELD


def describe(holder: dict[str, Any]) -> str:
    """'pid 12 on host h (SLURM job 34), started 2024-..., last heartbeat 3 s ago' for messages and logs."""
    job = f" (SLURM job {holder['slurm_job_id']})" if holder.get("slurm_job_id") else ""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("started", 0))))
    age = time.time() - float(holder.get("heartbeat", 0))
    return (
        f"pid {holder.get('pid')} on host {holder.get('host')}{job}, started {started}, last heartbeat {age:.0f} s ago"
    )


class FileLock:
    """An exclusive-create lock file with a heartbeat. Use as `with FileLock(path, what=...).acquire(wait):`."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        what: str,
        hint: str = "",
        stale_after: float | None = None,
        heartbeat: float | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.what, self.hint = what, hint
        self.stale_after = STALE_AFTER_S if stale_after is None else stale_after
        self.heartbeat_s = HEARTBEAT_S if heartbeat is None else heartbeat
        self.log = log or (lambda line: None)
        self.token = uuid.uuid4().hex
        self.record: dict[str, Any] = {}
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------------ acquire
    def acquire(self, wait: float | bool = False, on_wait: Callable[[dict], None] | None = None) -> FileLock:
        """Take the lock; if a live process holds it, raise LockHeld at once, or wait up to `wait` seconds
        (True: forever), calling `on_wait(holder)` once when the waiting starts."""
        limit = math.inf if wait is True else float(wait or 0)
        deadline, announced = time.monotonic() + limit, False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            if self._create():
                return self
            holder = self.read()
            if holder is not None and self._takeover(holder):
                continue
            if holder is not None and time.monotonic() >= deadline:
                raise LockHeld(
                    f"{self.what} is held by another process: {describe(holder)} (lock file {self.path}). "
                    f"{self.hint}A lock whose process is gone on this host is taken over at once, one from another "
                    f"host after {self.stale_after:.0f} s without a heartbeat (REPRO_LOCK_STALE_AFTER); delete the "
                    "lock file by hand only when you are sure that process no longer runs."
                )
            if holder is not None and on_wait is not None and not announced:
                on_wait(holder)
                announced = True
            time.sleep(POLL_S)

    def _create(self) -> bool:
        now = time.time()
        self.record = {
            "host": HOST,
            "pid": os.getpid(),
            "proc_start": process_start(os.getpid()),
            "slurm_job_id": slurm_job_id(),
            "started": now,
            "heartbeat": now,
            "token": self.token,
        }
        # The record is written to a temp file first and hard-linked into place (atomic, fails if the name
        # exists, and NFS-safe), so a lock file is never seen half-written.
        tmp = self.path.with_name(f".{self.path.name}.{self.token}.tmp")
        atomic_write_json(tmp, self.record)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the temp file was swept by the previous holder's cleanup: try again
            return False
        except OSError:  # no hard links on this file system: exclusive create
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(self.record))
                f.flush()
                os.fsync(f.fileno())
        finally:
            tmp.unlink(missing_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name=f"lock-heartbeat-{self.path.name}", daemon=True)
        self._thread.start()
        return True

    def read(self) -> dict[str, Any] | None:
        """The holder's record; an unreadable or half-written one counts as stale once it is `stale_after` old
        (its creator died between create and write), else as a holder that has not written yet."""
        try:
            text = self.path.read_text()
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        try:
            holder = json.loads(text)
            if isinstance(holder, dict) and "pid" in holder and "heartbeat" in holder:
                return holder
        except ValueError:
            pass
        return {"host": "?", "pid": "?", "started": mtime, "heartbeat": mtime, "token": None, "broken": True}

    def stale_reason(self, holder: dict[str, Any]) -> str | None:
        age = time.time() - float(holder.get("heartbeat", 0))
        if holder.get("host") == HOST and not holder.get("broken"):
            if not is_alive(int(holder["pid"]), holder.get("proc_start")):
                return f"its process {holder['pid']} on this host is gone"
            return None
        if age > self.stale_after:
            return f"no heartbeat for {age:.0f} s (limit {self.stale_after:.0f} s, REPRO_LOCK_STALE_AFTER)"
        return None

    def _takeover(self, holder: dict[str, Any]) -> bool:
        """Move a stale lock aside (rename is atomic: of two racing takers one wins) and say so in the log."""
        reason = self.stale_reason(holder)
        if reason is None:
            return False
        aside = self.path.with_name(f".{self.path.name}.stale-{self.token}.tmp")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return True  # someone else moved it: try to create again
        moved = self.read_file(aside)
        if moved is not None and moved.get("token") != holder.get("token"):
            # A racer replaced the stale lock with a fresh one in between: give it back and look again.
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        else:
            self.log(f"took over the lock of {self.what} from {describe(holder)}: {reason}")
        aside.unlink(missing_ok=True)
        return True

    @staticmethod
    def read_file(path: Path) -> dict[str, Any] | None:
        try:
            value = json.loads(path.read_text())
            return value if isinstance(value, dict) else None
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------------------------------- hold, release
    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            if not self.refresh():
                return

    def refresh(self) -> bool:
        """Write a new heartbeat if the lock is still ours; otherwise remember that it was lost."""
        current = self.read_file(self.path)
        if current is None or current.get("token") != self.token:
            self.lost = f"the lock {self.path} was taken over by {describe(current) if current else 'another process'}"
            self.log(f"lost the lock of {self.what}: {self.lost}")
            return False
        self.record["heartbeat"] = time.time()
        try:
            atomic_write_json(self.path, self.record)
        except OSError:  # a full disk or a flaky mount: keep the old heartbeat, try again next time
            pass
        return True

    def check(self) -> None:
        """Raise LockLost if another process took the lock over: a second writer must never follow."""
        if self.lost:
            raise LockLost(f"Stopped writing {self.what}: {self.lost}. Nothing more was written by this process.")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        current = self.read_file(self.path)
        if current is not None and current.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def held_by_this_process(path: str | os.PathLike) -> bool:
    """True when this process holds the lock file at `path` (submitit's checkpoint hook asks before writing)."""
    holder = FileLock.read_file(Path(path))
    return bool(holder) and holder.get("host") == HOST and holder.get("pid") == os.getpid()


def slurm_job_id() -> str | None:
    """This process's SLURM job as squeue and submitit name it ("<array>_<task>" in an array), else None."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID")
