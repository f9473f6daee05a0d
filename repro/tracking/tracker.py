"""Experiment trackers. W&B is a second sink, never the only one: any W&B failure becomes a warning and
training goes on with the run directory as the complete record."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any, Mapping

from repro.checkout import CHECKOUT_ROOT
from repro.tracking import wandb_run
from repro.tracking.wandb_bounds import WandbBounds, bound_public_api, quiet_error_reporting
from repro.tracking.wandb_run import wandb_mode
from repro.tracking.wandb_session import WandbSession
from repro.tracking.wandb_status import WandbStatus
from repro.tracking.wandb_sync import offline_folders, supersede_offline

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

    def catch_up(self, history: list[Mapping[str, Any]]) -> None:
        """A run resumed from its checkpoint: the epochs it already trained (`history`), for what W&B lacks."""

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        pass

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        pass

    def end_run(self, history: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
        """The run is done: final results, end-of-run charts and figures, artifacts."""

    def finish(self, exit_code: int = 0) -> None:
        pass


class WandbTracker(NullTracker):
    """The official `wandb` library, offline unless the user asks for online. Every call is guarded and bounded,
    all of them within one budget (repro/tracking/wandb_session.py): W&B failing or hanging costs the run at most
    its `tracker.timeouts.total`, and a call that times out online switches the run to offline.

    What the page holds: repro/tracking/wandb_page.py; identity: repro/tracking/wandb_run.py; the end of a run (its
    summary, charts, figures, artifacts and lineage): repro/tracking/wandb_end.py."""

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
        import wandb  # deferred: wandb is heavy; a run with tracker=none never loads it

        self.wandb = wandb
        self.config = dict(config)
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.page = None
        self.bounds = WandbBounds.from_settings(settings)
        bound_public_api(self.bounds)  # before W&B's public API client is imported: it reads the bound then
        self.status = status
        attempt, resumes = wandb_run.attempt_id(run_dir, run_id, resuming=resuming)
        git = {"git_root": str(CHECKOUT_ROOT)} if (CHECKOUT_ROOT / ".git").exists() else {}
        init_args = dict(
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
        self.session = WandbSession(
            wandb,
            init_args=init_args,
            mode=wandb_run.wandb_mode(settings),
            bounds=self.bounds,
            status=status,
            on_new_run=self._define,
        )
        try:
            self.session.start()
        except BaseException:
            self.session.close()
            raise

    @property
    def run(self) -> Any:
        return self.session.run

    @staticmethod
    def _define(run: Any) -> None:
        from repro.tracking.wandb_page import define_metrics  # deferred: torch is heavy (above)

        define_metrics(run)

    def guard(self, what: str, fn, *args, **kwargs) -> None:
        """A call the page needs (a log, the summary): a failure turns W&B off for the rest of the run."""
        if self.session.off:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # a tracker failure never kills training
            self.session.off = True
            warnings.warn(
                f"W&B {what} failed ({exc!r}); W&B logging is off for the rest of this run, "
                "the run directory keeps the complete record.",
                stacklevel=2,
            )

    def soft(self, what: str, fn, *args, **kwargs) -> None:
        """An optional extra (a chart, a figure, an artifact): a failure warns and logging goes on."""
        if self.session.off:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:
            warnings.warn(f"W&B {what} was not logged ({exc!r}); the run directory has the data.", stacklevel=2)

    def start(self, exp: Any) -> None:
        from repro.tracking.wandb_page import PageContext  # deferred: torch is heavy (above)

        try:
            self.page = PageContext.from_experiment(exp, self.config)
        except Exception as exc:  # the page's extras need it; the run does not
            self.status.problem("page setup", exc)
            warnings.warn(f"W&B page setup failed ({exc!r}); the run directory has the data.", stacklevel=2)

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        from repro.tracking.wandb_page import epoch_keys  # deferred: torch is heavy (above)

        self.guard("log", self.session.log, "log", lambda: epoch_keys(metrics, self.page, step), step)

    def catch_up(self, history: list[Mapping[str, Any]]) -> None:
        """Log again the epochs of a resumed run that W&B's server never got: a process killed (SIGKILL, the
        out-of-memory killer) takes with it what its W&B service had not sent yet, which may be every epoch it
        trained. Online only, where the resumed W&B run's starting step says what the server has: each row from
        that step on is sent, in order. An offline attempt's folder already holds what its process logged;
        `repro wandb sync` sends it whole, unless an online attempt caught up after it: then every epoch it holds is
        on the server, and it is recorded superseded, never uploaded (wandb_sync.py)."""
        if self.session.off or not self.session.online:
            return
        earlier = offline_folders(self.run_dir)  # offline attempts before this one, whose epochs this re-sends
        first = int(getattr(self.session.run, "starting_step", 0) or 0)  # the server's last step + 1 (0: none)
        for row in history:
            if int(row["epoch"]) >= first:  # W&B refuses a step below it
                self.log(row, step=int(row["epoch"]))
        if earlier and self.session.online and not self.session.off:  # still online: every row went to the server
            supersede_offline(self.run_dir, earlier)

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        self.guard("histogram", self.session.log, "histogram", lambda: {name: self.wandb.Histogram(values)}, step)

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        table = lambda: {name: self.wandb.Table(columns=columns, data=rows)}  # noqa: E731
        self.guard("table", self.session.log, "table", table, step)

    def end_run(self, history: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
        from repro.tracking.wandb_end import end_run  # deferred: torch is heavy (above)

        end_run(self, history, summary)

    def finish(self, exit_code: int = 0) -> None:
        """The end of the run: W&B uploads what is left within `tracker.timeouts.finish` and the budget (else the
        run's W&B folders keep it for `repro wandb sync`); W&B's service is stopped, and ended by pid if it does
        not stop, so nothing waits on W&B at the process's exit and nothing of it outlives the run."""
        self.status.finished(complete=self.session.finish(exit_code))


def make_tracker(*, run_id: str, run_dir: Path, config: Mapping[str, Any], resuming: bool = False) -> NullTracker:
    """The configured tracker, or a NullTracker with a warning when it cannot start. `resuming`: the run directory
    resumes from its checkpoint (only then is its W&B attempt resumed)."""
    settings = config.get("tracker") or {}
    if settings.get("kind", "none") == "none":
        return NullTracker()

    status = WandbStatus(run_dir, requested=wandb_mode(settings), budget=WandbBounds.from_settings(settings).total)
    try:
        return WandbTracker(
            run_id=run_id, run_dir=run_dir, config=config, settings=settings, status=status, resuming=resuming
        )
    except Exception as exc:
        status.set(logged_to=None, complete=False)
        warnings.warn(
            f"W&B could not start ({exc!r}); training goes on without it, the run directory keeps the "
            "complete record. Use tracker=none to silence this.",
            stacklevel=2,
        )
        return NullTracker()
