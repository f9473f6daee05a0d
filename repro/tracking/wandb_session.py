"""One run's W&B from start to teardown, within one budget (`tracker.timeouts.total`).

Every call (start, each log, summary, chart, figure, artifact, finish, the service's stop) runs under a deadline:
the smaller of its own bound and what is left of the budget (repro/tracking/wandb_bounds.py), and its seconds are
counted in wandb_status.json. The first call that times out online switches the run to offline for the rest of its
life, so no later call waits on the server:

1. this process's W&B service (`wandb-core`) is ended by pid (repro/tracking/wandb_service.py): the timed-out call,
   blocked in its thread on that service, returns at once, and no service goes on retrying after the run;
2. an offline W&B run with the same id (`resume="allow"`) takes over: every call made so far is made again there
   (the page's metric definitions, each history row, the summary, ...), then the call that timed out and every
   later one, so what the server did not get is written locally;
3. wandb_status.json lists that offline folder for `repro wandb sync`, which sends it once the server answers.

At the end the service is stopped (W&B's teardown, within its bound and the budget), then any service this run
started and that is still alive is ended by pid, after a failed finish too: nothing of W&B outlives the run.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable

from repro.tracking.wandb_bounds import Budget, WandbBounds, WandbTimeout, call_within
from repro.tracking.wandb_service import end_services, leave_inherited_service, service_pids
from repro.tracking.wandb_status import BUDGET_SPENT, SILENT, WandbStatus, plain_cause


def timed_out(exc: BaseException) -> bool:
    """Our deadline, the budget, or W&B's own timeouts (its finish and init timeouts, a request's deadline)."""
    return isinstance(exc, WandbTimeout) or plain_cause(exc) == SILENT


class WandbSession:
    """The run's W&B run object (replaced by an offline one after a timeout), its mode and its budget."""

    def __init__(
        self,
        wandb: Any,
        *,
        init_args: dict[str, Any],
        mode: str,
        bounds: WandbBounds,
        status: WandbStatus,
        on_new_run: Callable[[Any], None],
    ) -> None:
        self._wandb = wandb
        self._init_args = init_args
        self.mode = mode
        self.bounds = bounds
        self.status = status
        self.budget = Budget(bounds.total)
        self._on_new_run = on_new_run
        self._before = service_pids()  # services this process had before this run (none of ours to end)
        self.run: Any = None
        self.off = False  # W&B is off for the rest of the run (a call failed offline, or the budget is spent)
        self.went_offline_after: str | None = None
        self._made: list[tuple[str, Callable[[Any], Any], float]] = []  # every call so far, to make again offline
        self._last_step: int | None = None
        self._folders: list[str] = []  # this run's W&B folders under <run_dir>/wandb/, oldest first

    @property
    def online(self) -> bool:
        return self.mode == "online"

    # ------------------------------------------------------------------------------------------------ start

    def start(self) -> None:
        """wandb.init within its bounds. Online and refused, throttled, cut off or silent: the run logs offline
        from its start instead (same W&B id; `repro wandb sync` uploads it later)."""
        try:
            self._begin(self.mode, "init", self._init_args)
        except Exception as exc:
            if not self.online:
                raise
            self._leave_online("init", exc)
            self._begin("offline", "offline init", self._init_args)

    def _begin(self, mode: str, what: str, args: dict[str, Any]) -> None:
        self.run = self._timed(what, self.bounds.start_deadline(), lambda: self._init(mode, args))
        self._folders.append(Path(self.run.settings.sync_dir).name)
        self.status.set(logged_to=self.mode)
        self._timed("define_metric", self.bounds.call, lambda: self._on_new_run(self.run))

    def _init(self, mode: str, args: dict[str, Any]) -> Any:
        leave_inherited_service()  # the run's own service, never one a parent process left (wandb_service.py)
        # W&B starts its service from its global settings, not from init's: hand it the service wait there
        self._wandb.setup(settings=self._wandb.Settings(x_service_wait=self.bounds.service_wait))
        return self._wandb.init(mode=mode, **args)

    # ------------------------------------------------------------------------------------------------ calls

    def call(self, what: str, fn: Callable[[Any], Any], *, bound: float | None = None) -> Any:
        """`fn(run)` within its bound and the budget. A timeout online switches the run to offline, where every call
        made so far is made again and then this one; any other failure is raised (the tracker warns, goes on)."""
        if self.off or self.run is None:
            return None
        bound = self.bounds.call if bound is None else bound
        if what != "finish":
            self._made.append((what, fn, bound))
        try:
            return self._timed(what, bound, lambda: fn(self.run))
        except Exception as exc:
            if not timed_out(exc):
                raise
            if not self.online:
                self.off = True
                self._end_service(graceful=False, worker=getattr(exc, "worker", None))
                raise
            self._leave_online(what, exc)
            return self._continue_offline(what, fn, bound)

    def _continue_offline(self, what: str, fn: Callable[[Any], Any], bound: float) -> Any:
        """The rest of the run in an offline W&B run of the same id: every call made online again (what the server
        got of them is unknown; the online folder's transaction log, cut by the service's end, cannot be read
        back), so the offline folder alone holds what `repro wandb sync` sends, as a resumed W&B run. A call that
        fails again is recorded and skipped; a timeout offline turns W&B off."""
        self._begin("offline", "offline init", {**self._init_args, "resume": "allow"})
        for made, again, made_bound in self._made[:-1] if what != "finish" else self._made:
            try:
                self._timed(f"{made} (offline)", made_bound, lambda again=again: again(self.run))
            except Exception as exc:  # recorded by _timed
                if timed_out(exc):
                    self.off = True
                    self._end_service(graceful=False, worker=getattr(exc, "worker", None))
                    raise
        return self._timed(f"{what} (offline)", bound, lambda: fn(self.run))

    def log(self, what: str, payload: Callable[[], dict[str, Any]], step: int | None) -> None:
        """A history row; `step` None: the end-of-run rows, at one past the last epoch once offline (the offline
        run resumes the online one at sync, and W&B keeps a resumed run's steps increasing)."""
        if step is not None:
            self._last_step = step if self._last_step is None else max(self._last_step, step)

        def log(run: Any) -> None:
            at = step
            if at is None and self.went_offline_after is not None and self._last_step is not None:
                at = self._last_step + 1
            run.log(payload(), step=at)

        self.call(what, log)

    def summary(self, values: dict[str, Any]) -> None:
        self.call("summary", lambda run: run.summary.update(values))

    def _timed(self, what: str, bound: float, fn: Callable[[], Any]) -> Any:
        """`fn()` under min(bound, what is left of the budget), its seconds counted; a failure recorded."""
        seconds = self.budget.deadline(bound, online=self.online)
        started = time.monotonic()
        try:
            if seconds <= 0:
                raise WandbTimeout(f"W&B {what} not made: the run's W&B {BUDGET_SPENT} ({self.budget.total:g} s)")
            return call_within(seconds, fn, what=what)
        except Exception as exc:
            if timed_out(exc):
                self.status.timed_out(what, time.monotonic() - started)
            self.status.problem(what, exc, time.monotonic() - started)
            raise
        finally:
            elapsed = time.monotonic() - started
            self.budget.spend(elapsed)
            self.status.waited(what, elapsed)

    # ------------------------------------------------------------------------------------------------ the switch

    def _leave_online(self, what: str, exc: BaseException) -> None:
        """Online is over for this run: its service ended (which releases a call blocked on it), offline from now."""
        # after a timeout W&B's own teardown would only wait on the server too: its service is ended at once
        self._end_service(graceful=not timed_out(exc), worker=getattr(exc, "worker", None))
        self.mode, self.run = "offline", None
        self.went_offline_after = what
        self.status.set(logged_to="offline", went_offline_after=what)
        warnings.warn(
            f"W&B online failed at {what} ({' '.join(str(exc).split())[:200]}); this run logs to W&B offline from "
            "now on (`repro wandb sync` uploads it later) and trains on.",
            stacklevel=4,
        )

    def _end_service(self, *, graceful: bool, worker: Any = None) -> None:
        """Stop W&B's service: its own teardown when `graceful` (within its bound and the budget), then any service
        this run started that is still alive ended by pid; a call blocked on it returns."""
        started = time.monotonic()
        seconds = min(self.bounds.teardown, self.budget.left(online=False))
        ended_first = not graceful or seconds <= 0
        if ended_first:
            end_services(service_pids() - self._before)
            seconds = min(self.bounds.teardown, 5.0)  # the service is gone: W&B's teardown only resets its state
        blocked = [worker] if worker is not None else []
        try:
            call_within(seconds, self._wandb.teardown, what="teardown")
        except Exception as exc:  # the service ended first: its connection lost, or its exit code (WandbExited)
            if not ended_first:
                self.status.problem("teardown", exc)
            if isinstance(exc, WandbTimeout) and exc.worker is not None:
                blocked.append(exc.worker)
        left = end_services(service_pids() - self._before)
        for thread in blocked:
            thread.join(5.0)
        elapsed = time.monotonic() - started
        self.budget.spend(elapsed)
        self.status.waited("service stop", elapsed)
        if left:
            self.status.problem("service stop", f"W&B's service (pid {sorted(left)}) did not end")
        for thread in blocked:
            if thread.is_alive():
                self.status.problem("service stop", f"a W&B call ({thread.name}) was still blocked after the end")

    # ------------------------------------------------------------------------------------------------ the end

    def finish(self, exit_code: int) -> bool:
        """Finish the run (W&B uploads what is left within its bound and the budget), stop the service, end what
        is left of it by pid, and record what W&B did not get. True when W&B got it all in the mode asked for."""
        finished = False
        if not self.off and self.run is not None:
            try:
                self.call("finish", lambda run: run.finish(exit_code), bound=self.bounds.finish_deadline())
                finished = not self.off
            except Exception as exc:
                self.off = True
                warnings.warn(
                    f"W&B finish failed ({exc!r}); what W&B did not get is in {self._init_args['dir']}/wandb/ "
                    "(its .wandb transaction log).",
                    stacklevel=3,
                )
        self.close()
        return finished and self.went_offline_after is None

    def close(self) -> None:
        """Stop the service and end what is left of it; record the folders `repro wandb sync` sends."""
        self._end_service(graceful=True)
        offline = [name for name in self._folders if name.startswith("offline-")]
        if self.went_offline_after is not None and offline:
            self.status.unsent(
                offline,
                f"{self.status.record.get('cause') or 'W&B failed'} at `{self.went_offline_after}`: the run logged "
                "offline from then on, every call made online made again there",
            )
        elif offline:
            self.status.unsent(offline, "the run logged offline")
