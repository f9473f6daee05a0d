"""Experiment trackers. W&B is a second sink, never the only one: any W&B failure becomes a warning and
training goes on with the run directory as the complete record."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

from repro.tracking.wandb_bounds import (
    WandbBounds,
    WandbStatus,
    WandbTimeout,
    call_within,
    quiet_error_reporting,
    teardown_within,
)

log = logging.getLogger(__name__)

_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd)", re.IGNORECASE)


def scrub_secrets(obj: Any) -> Any:
    """Drop config entries whose names look like credentials before anything is sent to a tracker."""
    if isinstance(obj, Mapping):
        return {k: ("<redacted>" if _SECRET_KEY.search(str(k)) else scrub_secrets(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_secrets(v) for v in obj]
    return obj


class NullTracker:
    """Logs nothing; the run directory alone is the record."""

    def start(self, exp: Any) -> None:
        """The run's experiment is built: define the page (metric steps, summaries, per-class names)."""

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        pass

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        pass

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        pass

    def end_run(self, history: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
        """The run is done: final results, end-of-run charts and figures, artifacts."""

    def finish(self, exit_code: int = 0) -> None:
        pass


class WandbTracker(NullTracker):
    """The official `wandb` library, offline unless the user asks for online. Every call is guarded and bounded
    (repro/tracking/wandb_bounds.py): W&B failing or hanging costs the run at most its `tracker.timeouts`.

    What the page holds: repro/tracking/wandb_page.py; identity and lineage: repro/tracking/wandb_run.py."""

    def __init__(
        self,
        *,
        run_id: str,
        run_dir: Path,
        config: Mapping[str, Any],
        settings: Mapping[str, Any],
        status: WandbStatus,
        resuming: bool = False,
    ):
        quiet_error_reporting()
        import wandb

        from repro.runs.provenance import PROJECT_ROOT
        from repro.tracking import wandb_run

        self._wandb = wandb
        self._config = dict(config)
        self._settings = settings
        self._mode = wandb_run.wandb_mode(settings)
        self._run_dir = Path(run_dir)
        self._ctx = None
        self._disabled = False
        self.bounds = WandbBounds.from_settings(settings)
        self.status = status
        attempt, resumes = wandb_run.attempt_id(run_dir, run_id, resuming=resuming)
        git = {"git_root": str(PROJECT_ROOT)} if (PROJECT_ROOT / ".git").exists() else {}
        self._init_args = dict(
            project=settings.get("project") or "soft-labels-repro",
            entity=settings.get("entity"),
            name=run_id,
            id=attempt,
            group=wandb_run.group(config),
            job_type=wandb_run.job_type(config),
            tags=wandb_run.tags(config, settings.get("tags")),
            notes=config.get("notes"),
            config={**scrub_secrets(dict(config)), "provenance": wandb_run.provenance_config(run_dir)},
            dir=str(run_dir),
            resume="allow" if resumes else None,
            reinit="finish_previous",
            settings=wandb.Settings(console="wrap", silent=True, **git, **self.bounds.wandb_settings()),
        )
        self.run = self._start()
        self._guard("define_metric", self._define)

    def _start(self) -> Any:
        """wandb.init within its bounds. Online and refused, throttled, cut off or silent: the run is logged
        offline instead (same W&B id; `repro wandb sync` uploads it later) and wandb_status.json says so."""
        try:
            run = self._blocking("init", self.bounds.start_deadline(), self._init, self._mode)
        except Exception as exc:
            if self._mode != "online" or isinstance(exc, WandbTimeout):  # a call left behind: no second start
                raise
            if not self._blocking_teardown():
                raise
            # A service this process inherited (WANDB_SERVICE, from a parent that uses W&B, e.g. a notebook) outlives
            # the teardown and keeps the failed attempt's id in use: the offline attempt starts a service of its own.
            os.environ.pop("WANDB_SERVICE", None)
            run = self._blocking("offline init", self.bounds.start_deadline(), self._init, "offline")
            self._mode = "offline"
            warnings.warn(
                f"W&B online did not start ({' '.join(str(exc).split())[:200]}); this run logs to W&B offline "
                "(`repro wandb sync` uploads it later) and trains on.",
                stacklevel=3,
            )
        self.status.set(logged_to=self._mode)
        return run

    def _init(self, mode: str) -> Any:
        # W&B starts its service from its global settings, not from init's: hand it the service wait there
        self._wandb.setup(settings=self._wandb.Settings(x_service_wait=self.bounds.service_wait))
        return self._wandb.init(mode=mode, **self._init_args)

    def _blocking(self, call: str, seconds: float, fn, *args) -> Any:
        """A call the run waits on (start, finish): bounded, its seconds added up in wandb_status.json, a failure
        recorded there and raised."""
        started = time.monotonic()
        try:
            return call_within(seconds, lambda: fn(*args), what=call)
        except Exception as exc:
            self.status.problem(call, exc, time.monotonic() - started)
            raise
        finally:
            self.status.waited(time.monotonic() - started)

    def _blocking_teardown(self) -> bool:
        started = time.monotonic()
        done = teardown_within(self._wandb, self.bounds.teardown)
        self.status.waited(time.monotonic() - started)
        if not done:
            self.status.problem("teardown", f"W&B's service did not stop within {self.bounds.teardown:g} s")
        return done

    def _define(self) -> None:
        from repro.tracking.wandb_page import define_metrics

        define_metrics(self.run)

    def _guard(self, what: str, fn, *args, **kwargs) -> None:
        if self._disabled:
            return
        try:
            call_within(self.bounds.call, lambda: fn(*args, **kwargs), what=what)
        except Exception as exc:  # a tracker failure never kills training
            self._disabled = True
            self.status.problem(what, exc)
            warnings.warn(
                f"W&B {what} failed ({exc!r}); W&B logging is off for the rest of this run, "
                "the run directory keeps the complete record.",
                stacklevel=2,
            )

    def _soft(self, what: str, fn, *args, **kwargs) -> None:
        """An optional extra (a chart, a figure, an artifact): a failure warns and logging goes on."""
        if self._disabled:
            return
        try:
            call_within(self.bounds.call, lambda: fn(*args, **kwargs), what=what)
        except Exception as exc:
            self.status.problem(what, exc)
            warnings.warn(f"W&B {what} was not logged ({exc!r}); the run directory has the data.", stacklevel=2)

    def start(self, exp: Any) -> None:
        from repro.tracking.wandb_page import PageContext

        self._soft("page setup", lambda: setattr(self, "_ctx", PageContext.from_experiment(exp, self._config)))

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        from repro.tracking.wandb_page import epoch_keys

        self._guard("log", lambda: self.run.log(epoch_keys(metrics, self._ctx, step), step=step))

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        self._guard("histogram", lambda: self.run.log({name: self._wandb.Histogram(values)}, step=step))

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        self._guard("table", lambda: self.run.log({name: self._wandb.Table(columns=columns, data=rows)}, step=step))

    def end_run(self, history: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
        from repro.tracking import wandb_charts, wandb_run

        final = {f"summary/{k}": v for k, v in summary.items() if isinstance(v, (int, float, str, bool))}
        self._guard("summary", lambda: self.run.summary.update(final))
        if self._ctx is not None:
            ctx = self._ctx
            # no explicit step: a run resumed after its last epoch has that step committed already (W&B would drop
            # the row); `epoch` is carried over by the step metric's sync
            self._soft("charts", lambda: self.run.log(wandb_charts.end_charts(self._wandb, history, ctx)))
            self._soft(
                "figures",
                lambda: self.run.log(
                    {
                        k: self._wandb.Image(str(p))
                        for k, p in wandb_charts.end_images(ctx, history, self._run_dir / "figures").items()
                    }
                ),
            )
        offline = self._mode != "online"
        rd = self._run_dir_obj()
        self._soft(
            "input artifacts",
            lambda: [
                wandb_run.use_artifact(self.run, a, offline=offline)
                for a in wandb_run.input_artifacts(self._wandb, self._config)
            ],
        )
        self._soft("label artifact", lambda: self._log_artifact(wandb_run.label_artifact(self._wandb, rd)))
        upload = bool(self._settings.get("log_checkpoint"))
        self._soft(
            "model artifact", lambda: self._log_artifact(wandb_run.model_artifact(self._wandb, rd, upload=upload))
        )

    def _run_dir_obj(self) -> Any:
        from repro.runs.rundir import RunDir

        return RunDir(self._run_dir)

    def _log_artifact(self, artifact: Any) -> None:
        if artifact is not None:
            self.run.log_artifact(artifact)

    def finish(self, exit_code: int = 0) -> None:
        """The end of the run: W&B uploads what is left within `tracker.timeouts.finish` (else its transaction log
        under <run_dir>/wandb/ keeps it); after an online run or any problem, W&B's service is stopped within
        `tracker.timeouts.teardown`, so nothing waits on W&B at the process's exit either."""
        finished = False
        if not self._disabled:
            try:
                self._blocking("finish", self.bounds.finish_deadline(), self.run.finish, exit_code)
                finished = True
            except Exception as exc:
                self._disabled = True
                warnings.warn(
                    f"W&B finish failed ({exc!r}); what W&B did not get is in {self._run_dir}/wandb/ "
                    "(its .wandb transaction log).",
                    stacklevel=2,
                )
        if self._mode == "online" or self.status.record["problems"]:
            self._blocking_teardown()
        self.status.finished(complete=finished)


def make_tracker(*, run_id: str, run_dir: Path, config: Mapping[str, Any], resuming: bool = False) -> NullTracker:
    """The configured tracker, or a NullTracker with a warning when it cannot start. `resuming`: the run directory
    resumes from its checkpoint (only then is its W&B attempt resumed)."""
    settings = config.get("tracker") or {}
    if settings.get("kind", "none") == "none":
        return NullTracker()
    from repro.tracking.wandb_run import wandb_mode

    status = WandbStatus(run_dir, requested=wandb_mode(settings))
    try:
        return WandbTracker(
            run_id=run_id, run_dir=run_dir, config=config, settings=settings, status=status, resuming=resuming
        )
    except Exception as exc:
        status.set(logged_to=None, complete=False)
        if "wandb" in sys.modules and not teardown_within(
            sys.modules["wandb"], WandbBounds.from_settings(settings).teardown
        ):
            status.problem("teardown", "W&B's service did not stop in time")
        warnings.warn(
            f"W&B could not start ({exc!r}); training goes on without it, the run directory keeps the "
            "complete record. Use tracker=none to silence this.",
            stacklevel=2,
        )
        return NullTracker()
