"""The one exception type for bad input: the CLI prints its message and exits 2, without a traceback; and the
interruption a signal raises, with the contexts in which SIGTERM raises it (a command's; a run's epochs, which also
remember it)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class UserError(Exception):
    """Bad input (config, data, files). The message is one paragraph: what was wrong and how to fix it."""


class Interrupted(Exception):
    """SIGTERM/SIGINT arrived: the run stops at once; its last epoch's checkpoint is the resume point. The CLI says
    so in one line and exits 128 + the signal's number (143 for SIGTERM, 130 for SIGINT)."""

    def __init__(self, message: str = "", signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Interrupted` anywhere inside (as Ctrl-C raises KeyboardInterrupt), so a command ends with its
    one line, not a traceback or a silent kill, and the local sweep's parent stops its workers before it exits. Only
    the main thread may set handlers: elsewhere it does nothing."""

    def handle(signum: int, frame: object) -> None:
        raise Interrupted(f"received {signal.Signals(signum).name}", signum=signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class stop_on_signals:
    """A run's epochs (repro/train.py): SIGTERM (SLURM time limit / preemption without submitit) raises a clean
    `Interrupted`, and Ctrl-C KeyboardInterrupt as Python does.

    The handler raises at once, and also remembers the signal: Python drops an exception raised while a finaliser
    (`__del__`, a weakref callback) runs, so a run whose exception was lost that way stops at its epoch's end
    (`raise_if_received`). Inside `deferred()` it only remembers: the signal is raised when that block ends."""

    def __enter__(self) -> stop_on_signals:
        self.received: int | None = None
        self._deferring = False
        self._previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._handle)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when SIGINT is ignored
                self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum
        if not self._deferring:
            self.raise_if_received()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A commit no signal splits: a signal that arrives inside is raised as the block ends, after all of it ran.
        A run's checkpoint renamed into place and the epoch it commits recorded are one such step: split, the run's
        status would name the epoch before the checkpoint it really resumes from."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        self.raise_if_received()

    def raise_if_received(self) -> None:
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is not None:
            raise Interrupted(f"received {signal.Signals(self.received).name}", signum=self.received)

    def __exit__(self, *exc: Any) -> bool:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False
