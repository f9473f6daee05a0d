"""The one exception type for bad input: the CLI prints its message and exits 2, without a traceback; and the
interruption a signal raises, with the context in which SIGTERM raises it."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


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
