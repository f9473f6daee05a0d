"""Experiment trackers. W&B is a second sink, never the only one: any W&B failure becomes a warning and
training goes on with the run directory as the complete record."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any, Mapping

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
    """The official `wandb` library, offline unless the user asks for online. Every call is guarded.

    What the page holds: repro/tracking/wandb_page.py; identity and lineage: repro/tracking/wandb_run.py."""

    def __init__(
        self,
        *,
        run_id: str,
        run_dir: Path,
        config: Mapping[str, Any],
        settings: Mapping[str, Any],
        resuming: bool = False,
    ):
        import wandb

        from repro.runs.provenance import PROJECT_ROOT
        from repro.tracking import wandb_run

        self._wandb = wandb
        self._config = dict(config)
        self._settings = settings
        self._mode = wandb_run.wandb_mode(settings)
        self._run_dir = Path(run_dir)
        self._ctx = None
        attempt, resumes = wandb_run.attempt_id(run_dir, run_id, resuming=resuming)
        git = {"git_root": str(PROJECT_ROOT)} if (PROJECT_ROOT / ".git").exists() else {}
        self.run = wandb.init(
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
            mode=self._mode,
            resume="allow" if resumes else None,
            reinit="finish_previous",
            settings=wandb.Settings(console="wrap", silent=True, **git),
        )
        self._disabled = False
        self._guard("define_metric", self._define)

    def _define(self) -> None:
        from repro.tracking.wandb_page import define_metrics

        define_metrics(self.run)

    def _guard(self, what: str, fn, *args, **kwargs) -> None:
        if self._disabled:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # a tracker failure never kills training
            self._disabled = True
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
            fn(*args, **kwargs)
        except Exception as exc:
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
        self._guard("finish", self.run.finish, exit_code=exit_code)


def make_tracker(*, run_id: str, run_dir: Path, config: Mapping[str, Any], resuming: bool = False) -> NullTracker:
    """The configured tracker, or a NullTracker with a warning when it cannot start. `resuming`: the run directory
    resumes from its checkpoint (only then is its W&B attempt resumed)."""
    settings = config.get("tracker") or {}
    if settings.get("kind", "none") == "none":
        return NullTracker()
    try:
        return WandbTracker(run_id=run_id, run_dir=run_dir, config=config, settings=settings, resuming=resuming)
    except Exception as exc:
        warnings.warn(
            f"W&B could not start ({exc!r}); training goes on without it, the run directory keeps the "
            "complete record. Use tracker=none to silence this.",
            stacklevel=2,
        )
        return NullTracker()
