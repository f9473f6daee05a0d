"""How long W&B may hold a run, and the record of what W&B did not get.

A table is hundreds of runs; if each waits out W&B's own defaults against a throttled or dead server (90 s to start,
forever to finish, retries for hours), W&B costs GPU-hours. `tracker.timeouts` and `tracker.retries` are handed to
W&B's own settings (`wandb.Settings`: `init_timeout`, `finish_timeout`, `x_service_wait` and the per-request
timeout, retry count and backoff cap of its GraphQL, file-stream and file-transfer clients; the request timeout of
its public API client, which reads an environment variable instead: `bound_public_api`), and every call that can
block is also run under a deadline of our own (`call_within`): a W&B call that ignores its settings is left
behind in a daemon thread, W&B is turned off for the rest of the run, and the run goes on.

Over all of them, one budget (`tracker.timeouts.total`, `Budget`): each call's deadline is the smaller of its own
bound and what is left of the budget, so the run's whole wait on W&B, start to finish, is capped by it. What the
run got and waited: repro/tracking/wandb_status.py; what happens when a call times out: wandb_session.py.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping


class WandbTimeout(TimeoutError):
    """A W&B call outlived its deadline; its thread (`worker`) is still running until W&B's service is ended."""

    def __init__(self, message: str, worker: threading.Thread | None = None) -> None:
        super().__init__(message)
        self.worker = worker


class WandbExited(RuntimeError):
    """A W&B call ended in `sys.exit(code)`: W&B's teardown exits with its service's exit code when that is not 0
    (a service this run ended by pid, a service that crashed). Made in a call's own thread, that exit ends only the
    thread; handed to the caller as this error, never as the process's exit."""


@dataclass(frozen=True)
class WandbBounds:
    """Seconds W&B may take (`tracker.timeouts.*`) and how often a failed request is retried (`tracker.retries`).

    total: the run's whole wait on W&B, every call counted (the budget: `Budget`); init: starting an online run
    (W&B's default 90 s); finish: uploading what is left at the end (W&B's default: no limit); call: any one log,
    summary, chart or artifact call; teardown: stopping W&B's service process at the end; service_wait: the local
    service process to start (W&B's default 30 s is too short on a node where a whole array starts at once);
    request: one HTTP request; retry_wait_max: the longest backoff between retries of a 429, 5xx or dropped
    connection."""

    total: float = 90.0
    init: float = 15.0
    finish: float = 60.0
    call: float = 30.0
    teardown: float = 10.0
    service_wait: float = 120.0
    request: float = 20.0
    retries: int = 5
    retry_wait_max: float = 20.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WandbBounds:
        timeouts = dict(settings.get("timeouts") or {})
        retries = settings.get("retries")
        known = {k: float(v) for k, v in timeouts.items() if k in cls.__dataclass_fields__ and v is not None}
        return cls(**known, **({} if retries is None else {"retries": int(retries)}))

    def wandb_settings(self) -> dict[str, Any]:
        """Keyword arguments for `wandb.Settings` that put these bounds on W&B's own clients."""
        out: dict[str, Any] = {
            "init_timeout": self.init,
            "finish_timeout": self.finish,
            "finish_timeout_raises": True,  # so we know, and record, that the upload was cut
            "x_service_wait": self.service_wait,
        }
        for client in ("graphql", "file_stream", "file_transfer"):
            out[f"x_{client}_timeout_seconds"] = self.request
            out[f"x_{client}_retry_max"] = self.retries
            out[f"x_{client}_retry_wait_max_seconds"] = self.retry_wait_max
        return out

    def start_deadline(self) -> float:
        """Our own deadline on `wandb.init`: W&B's bounds on its service and on the run's start, plus a margin."""
        return self.service_wait + self.init + 10.0

    def finish_deadline(self) -> float:
        """Our own deadline on `run.finish`, a little past W&B's `finish_timeout` (which W&B enforces itself)."""
        return 1.25 * self.finish + 2.0


class Budget:
    """The run's one budget for W&B (`tracker.timeouts.total`): every call's deadline is the smaller of its own
    bound and what is left. While the run is online, `reserve` seconds are held back for writing the rest offline
    once a call timed out (an offline start and finish are local: a second or two)."""

    def __init__(self, total: float) -> None:
        self.total = float(total)
        self.reserve = min(20.0, 0.5 * self.total)
        self.spent = 0.0

    def spend(self, seconds: float) -> None:
        self.spent += seconds

    def left(self, *, online: bool) -> float:
        return max(0.0, self.total - self.spent - (self.reserve if online else 0.0))

    def deadline(self, bound: float, *, online: bool) -> float:
        return min(bound, self.left(online=online))


HTTP_TIMEOUT_VARIABLE = "WANDB_HTTP_TIMEOUT"  # W&B's: its public API client's request timeout (default 19 s)
PUBLIC_API_MODULE = "wandb.apis.public.api"


def bound_public_api(bounds: WandbBounds) -> None:
    """W&B's public API client takes its request timeout from WANDB_HTTP_TIMEOUT (19 s unless set), not from a
    run's settings, and reads it when its module is first imported. A run reaches that client through
    `log_artifact`, which asks the server for the artifact's type there and swallows a failure: against a server
    that stopped answering, that call returned after 19 s without failing, the run stayed online past its end-of-run
    calls and the budget ran out on its finish. Set here to `request` (whole seconds, as W&B parses it), before the
    run imports the client; where an earlier run of this process imported it already, its class is given the
    bound too."""
    seconds = math.ceil(bounds.request)
    os.environ[HTTP_TIMEOUT_VARIABLE] = str(seconds)
    public_api = sys.modules.get(PUBLIC_API_MODULE)
    if public_api is not None:  # its class read the variable at that import
        public_api.Api._HTTP_TIMEOUT = seconds


def quiet_error_reporting() -> None:
    """W&B's SDK reports its own errors to the W&B server at exit; against an unreachable server that costs about
    10 s per process. Off unless the user asked for it (WANDB_ERROR_REPORTING set)."""
    os.environ.setdefault("WANDB_ERROR_REPORTING", "false")


def call_within(seconds: float, fn: Callable[[], Any], *, what: str) -> Any:
    """`fn()` in a daemon thread; its result or its exception, or `WandbTimeout` after `seconds` (the thread goes
    on until W&B's service is ended, which ends its wait: repro/tracking/wandb_session.py). A `sys.exit` inside
    `fn` (W&B's teardown after its service ended non-zero) comes back as `WandbExited`: re-raised as SystemExit in
    the caller's thread it would end the run's process, with the service's exit code, where W&B only meant to say
    how its service ended."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except SystemExit as exc:
            box["error"] = WandbExited(f"W&B {what} exited with its service's exit code {exc.code}")
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"wandb-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise WandbTimeout(f"W&B {what} did not return within {seconds:g} s", worker)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def teardown_within(wandb: Any, seconds: float) -> bool:
    """Stop W&B's service process (waiting for what it still sends) within `seconds`; False when it did not stop
    in time (it is left to exit with this process: W&B's service exits when its parent does)."""
    try:
        call_within(seconds, wandb.teardown, what="teardown")
        return True
    except Exception:
        return False
