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

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        pass

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        pass

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        pass

    def finish(self, exit_code: int = 0) -> None:
        pass


class WandbTracker(NullTracker):
    """The official `wandb` library, offline unless the user asks for online. Every call is guarded."""

    def __init__(self, *, run_id: str, run_dir: Path, config: Mapping[str, Any], settings: Mapping[str, Any]):
        import wandb

        self._wandb = wandb
        sweep = config.get("sweep") or {}
        self.run = wandb.init(
            project=settings.get("project") or "soft-labels-repro",
            entity=settings.get("entity"),
            name=run_id,
            id=run_id,
            group=sweep.get("name"),
            job_type=sweep.get("stage"),
            tags=list(settings.get("tags") or []),
            config=scrub_secrets(dict(config)),
            dir=str(run_dir),
            mode=settings.get("mode") or "offline",
            resume="allow",
            reinit="finish_previous",
            settings=wandb.Settings(console="off", silent=True),
        )
        self._disabled = False

    def _guard(self, what: str, fn, *args, **kwargs) -> None:
        if self._disabled:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # a tracker failure never kills training
            self._disabled = True
            warnings.warn(f"W&B {what} failed ({exc!r}); W&B logging is off for the rest of this run, "
                          "the run directory keeps the complete record.", stacklevel=2)

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        self._guard("log", self.run.log, dict(metrics), step=step)

    def log_histogram(self, name: str, values: Any, step: int | None = None) -> None:
        self._guard("histogram", lambda: self.run.log({name: self._wandb.Histogram(values)}, step=step))

    def log_table(self, name: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        self._guard("table", lambda: self.run.log({name: self._wandb.Table(columns=columns, data=rows)}, step=step))

    def finish(self, exit_code: int = 0) -> None:
        self._guard("finish", self.run.finish, exit_code=exit_code)


def make_tracker(*, run_id: str, run_dir: Path, config: Mapping[str, Any]) -> NullTracker:
    """The configured tracker, or a NullTracker with a warning when it cannot start."""
    settings = config.get("tracker") or {}
    if settings.get("kind", "none") == "none":
        return NullTracker()
    try:
        return WandbTracker(run_id=run_id, run_dir=run_dir, config=config, settings=settings)
    except Exception as exc:
        warnings.warn(f"W&B could not start ({exc!r}); training goes on without it, the run directory keeps the "
                      "complete record. Use tracker=none to silence this.", stacklevel=2)
        return NullTracker()
