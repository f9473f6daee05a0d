"""W&B's service processes (`wandb-core`) that this process started, found and ended by pid; a run's service is
always its own, never one a parent process left it (`leave_inherited_service`).

Why: W&B runs its uploads in a service process of its own. Against a server that stopped answering, that process
goes on retrying after the run's process exits (reparented to pid 1 it retried for minutes), and a call blocked on
it keeps a thread of the run waiting. W&B starts the service with `--pid <the starting process's pid>` (it watches
that parent), so the services of this process are found by their command line in /proc (Linux; elsewhere none are
found and W&B's own teardown is all there is), also after they were reparented.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

SERVICE_NAME = "wandb-core"
SERVICE_VARIABLE = "WANDB_SERVICE"  # W&B's: the running service a process joins instead of starting its own
PROC = Path("/proc")


def leave_inherited_service() -> None:
    """Make the process's next W&B start launch a service of its own, whatever WANDB_SERVICE it inherited.

    A process started by one that used W&B (a notebook, a driver script, a test process, `wandb beta core start`)
    inherits WANDB_SERVICE and W&B would run it in that parent's service. A run never does: a shared service keeps
    the W&B id of a run killed with SIGKILL in use, so the resumed run's start online is refused ("run ID is in
    use") and it logs offline, its epochs never reaching the server online (its catch-up is online only); and a
    run's budget ends its own service by pid to free a call blocked on it, which it cannot do to a shared one.
    W&B reads the variable only when it connects to a service: a process already connected stays on its service."""
    os.environ.pop(SERVICE_VARIABLE, None)


def service_pids(parent: int | None = None) -> set[int]:
    """Pids of the live `wandb-core` processes started by `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found = set()
    for entry in PROC.glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if not argv or Path(argv[0].decode(errors="replace")).name != SERVICE_NAME:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if any(a == "--pid" and b == str(parent) for a, b in zip(args, args[1:])) and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, ended but not yet reaped, is not alive)."""
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def end_services(pids: set[int], *, grace: float = 2.0) -> set[int]:
    """SIGTERM each of `pids`, SIGKILL what is left after `grace` seconds, reap our own children; returns the pids
    still alive (none, unless the kernel is stuck)."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    left = _wait_gone(pids, grace)
    for pid in left:
        _signal(pid, signal.SIGKILL)
    return _wait_gone(left, grace)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while True:
        for pid in pids:
            _reap(pid)
        left = {pid for pid in pids if alive(pid)}
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _reap(pid: int) -> None:
    """Collect a child's exit so it leaves no zombie (W&B's own Popen then finds it reaped, which it accepts)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (reparented, or W&B reaped it)
        pass
