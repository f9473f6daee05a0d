"""No worker outlives its command: the local executor's processes stop within seconds when `repro sweep` /
`repro demo` dies, however it dies (kill -9 and the OOM killer included, which no handler of the command sees).

Why this is needed: a worker of a `ProcessPoolExecutor` waits on its call queue, whose pipe ends every worker also
holds, so it never sees the command go; and the forkserver waits for the last holder of its "alive" pipe, which
every worker holds too. Left alone, both idle (or train on, holding run locks) until killed by hand.

- The forkserver (a direct child of the command): on Linux, `prctl(PR_SET_PDEATHSIG, SIGKILL)`, armed when it
  imports this module as a preload (`FORKSERVER_PRELOAD`); it holds no run. Elsewhere it ends by itself once its
  last worker has exited (the alive pipe reaches EOF).
- A worker (a child of the forkserver): on Linux, `PR_SET_PDEATHSIG` with SIGTERM when the forkserver dies; on
  every platform, a watcher thread that checks the command's pid and sends SIGTERM to the worker when it is gone
  (again every second until the worker has exited: a run starting at that moment still gets it). A training run
  turns SIGTERM into a clean stop (status `interrupted`, its checkpoint kept, its lock released; repro/train.py);
  the worker then exits instead of waiting for work. Once the command is gone, a SIGTERM outside training's own
  handler is absorbed, so the two mechanisms arriving together never cut a run's clean-up short.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from repro.errors import Interrupted
from repro.runs.processes import is_alive

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
COMMAND_PID_ENV = "REPRO_SWEEP_COMMAND_PID"
FORKSERVER_PRELOAD = __name__  # imported first by the forkserver (repro/sweep/executors/local_pool.py)
WATCH_INTERVAL_S = 0.5  # how often a worker checks its command (stops within about a second)
STOP_EXIT_CODE = 128 + signal.SIGTERM

_command_pid: int | None = None
_in_run = False


def arm_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False where that is not offered."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@contextmanager
def command_pid_exported() -> Iterator[None]:
    """While the pool starts: tell the forkserver (through its environment) which process is its command."""
    before = os.environ.get(COMMAND_PID_ENV)
    os.environ[COMMAND_PID_ENV] = str(os.getpid())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(COMMAND_PID_ENV, None)
        else:
            os.environ[COMMAND_PID_ENV] = before


def stop_with_command(command_pid: int) -> None:
    """In a worker, at start: SIGTERM when the command (or, on Linux, the forkserver) dies; exit at once when idle."""
    global _command_pid
    _command_pid = command_pid
    signal.signal(signal.SIGTERM, _on_sigterm)
    parent = os.getppid()
    arm_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent or not is_alive(command_pid):  # it died before the signal was armed
        os._exit(STOP_EXIT_CODE)
    threading.Thread(target=_watch, args=(command_pid,), name="repro-command-watch", daemon=True).start()


@contextmanager
def one_run() -> Iterator[None]:
    """Around one run in a worker: a SIGTERM is training's to handle; when the command is gone, exit afterwards
    (nobody is left to read the result, and waiting for more work would leak this process)."""
    global _in_run
    _in_run = True
    try:
        yield
    finally:
        _in_run = False
        if _command_pid is not None and not is_alive(_command_pid):
            os._exit(STOP_EXIT_CODE)


def _on_sigterm(signum: int, frame: object) -> None:
    """A worker's SIGTERM outside training's own handler. Idle: exit now. In a run, from the live command (its
    Ctrl-C, one SIGTERM): stop the run as training would (its setup had not installed training's handler yet).
    In a run, the command gone: remembered only (it may be the clean-up of a run already stopped); the watcher
    repeats SIGTERM until training's handler stops the run, and the worker exits when the run is over."""
    if not _in_run:
        os._exit(STOP_EXIT_CODE)
    if _command_pid is None or is_alive(_command_pid):
        raise Interrupted(f"received {signal.Signals(signum).name}", signum=signum)


def _watch(command_pid: int) -> None:
    while is_alive(command_pid):
        time.sleep(WATCH_INTERVAL_S)
    while True:  # until this process exits
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1.0)


def _arm_forkserver() -> None:
    """Imported as the forkserver's first preload: die with the command (a plain import elsewhere does nothing)."""
    if os.environ.get(COMMAND_PID_ENV) == str(os.getppid()) and "multiprocessing.forkserver" in sys.modules:
        arm_parent_death_signal(signal.SIGKILL)


_arm_forkserver()
