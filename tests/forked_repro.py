"""`repro` as a real process forked from the test's own process, for the tests that start several of them.

A fresh interpreter pays 4-6 CPU-s importing torch, Hydra and repro before its first line of work; a child forked
from the test process has them imported already and starts in milliseconds. It is still a process of its own: it
takes signals, holds the run's lock under its own pid, can be frozen with SIGSTOP, and ends with the exit status
`repro.cli.main` returns. What a fork does not exercise is the interpreter's own start and shutdown (the child
leaves with `os._exit`, so no atexit handler of the test process runs in it): a test about those starts
`python -m repro.cli` itself.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from repro.cli import main

HANG_GUARD_S = 600  # waits end on events; this bound only turns a hang into a failure


class ForkedRepro:
    """A `repro` command running in a forked child: its pid, and its exit status once reaped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float = HANG_GUARD_S) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            assert time.monotonic() < deadline, f"forked repro (pid {self.pid}) still running after {timeout} s"
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait()


def fork_repro(
    argv: list[str], *, stdout: Path, stderr: Path, prepare: Callable[[], None] | None = None
) -> ForkedRepro:
    """Run `repro ARGV` in a forked child writing its stdout and stderr to the two files. `prepare` runs in the child
    first (a patch that holds the run at a known point, say). Ctrl-C is as in a terminal's foreground command: it
    raises KeyboardInterrupt, whatever the test process (a background job, an xdist worker) had made of SIGINT."""
    sys.stdout.flush()
    sys.stderr.flush()
    # opened here, before the fork, so both files exist when this returns (a test may read them at once)
    fds = [os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) for path in (stdout, stderr)]
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return ForkedRepro(pid)
    code = 1
    try:  # the child: never returns into the test process's code
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in zip((1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115  (open until os._exit below)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        if prepare is not None:
            prepare()
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001  (the child reports anything and exits; the test reads its stderr)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
