"""The W&B API -> the same frame as `collect_runs` (analysis/collect.py), for runs whose directories are elsewhere.

The training loop names each W&B run by its run id, logs one history row per epoch (with `epoch`) and, when the
run is done, its summary fields under `summary/<field>` in the run summary (repro/tracking/tracker.py; runs logged
before
that have them in a last history row). So a W&B run maps onto the run directory
contract: the config is the resolved config, the `summary/` keys are summary.json, and the history's last epoch is
how far the run got. The full history is read with `run.scan_history()` (every row), never the sampled `history()`,
which could miss the last epoch or the summary row.

W&B cannot tell an interrupted run from a failed one (both end with a non-zero exit code, state "failed"); a
crashed / killed / preempted run is "interrupted". Status messages stay in the run directory (`message` is empty).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

from analysis.collect import frame_from_records
from repro.errors import UserError

SUMMARY_PREFIX = "summary/"
PATH_PREFIX = "wandb:"  # a W&B run's `path` in the run frame: wandb:<entity/project>/<run id>
_STATE_MAP = {
    "running": "running",
    "pending": "running",
    "failed": "failed",
    "crashed": "interrupted",
    "killed": "interrupted",
    "preempted": "interrupted",
    "preempting": "interrupted",
    "finished": "interrupted",  # finished without a summary: the loop stopped before the end
}


def collect_wandb(entity_project: str, api: Any = None) -> pd.DataFrame:
    """One row per W&B run of `entity/project`, with the columns of `collect_runs`. `api` defaults to
    `wandb.Api()`; tests pass an object with the same `runs(path)` method returning recorded runs."""
    if entity_project.count("/") != 1 or not all(entity_project.split("/")):
        raise UserError(
            f"--wandb {entity_project!r}: give the W&B project as ENTITY/PROJECT (e.g. my-team/soft-labels-repro), "
            "the entity and project the runs were logged to (tracker.entity, tracker.project)."
        )
    try:
        api = api if api is not None else _default_api()
        records = [wandb_record(run, entity_project) for run in api.runs(entity_project, per_page=500, lazy=False)]
    except UserError:
        raise
    except Exception as exc:  # the wandb client raises many types (CommError, ValueError, HTTPError, ...)
        raise UserError(
            f"Could not read the W&B project {entity_project!r}: {type(exc).__name__}: {str(exc).rstrip('.')}. "
            "Check the entity and project names, that you are online and logged in (`wandb login`, or "
            "WANDB_API_KEY), and that the runs were synced (offline runs: `wandb sync "
            "<output_root>/runs/*/wandb/offline-run-*`). Without W&B, read the run directories instead: "
            "--runs OUTPUT_ROOT."
        ) from None
    return frame_from_records(latest_attempts(records))


def latest_attempts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per run: a run trained again with `repro train --rerun` logs each attempt as its own W&B run
    (named `<run_id>-attempt2`, ...); keep the latest, under the run id (as the run directory source reads only the
    current attempt). W&B runs of the same name and attempt (a retrain in a fresh output root: each has its own W&B
    id, repro/tracking/wandb_run.py) count once: a done one wins, else the first listed (the API lists newest first)."""
    from repro.runs.attempts import split_tracker_id  # deferred: torch (repro.runs.attempts loads it)

    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    for record in records:
        run_id, attempt = split_tracker_id(str(record["run_id"]))
        kept = latest.get(run_id)
        done_over_not = (
            kept is not None
            and attempt == kept[0]
            and record["status"]["state"] == "done"
            and kept[1]["status"]["state"] != "done"
        )
        if kept is None or attempt > kept[0] or done_over_not:
            latest[run_id] = (attempt, {**record, "run_id": run_id})
    return [record for _, record in latest.values()]


def _default_api() -> Any:
    import wandb  # deferred: wandb is heavy

    return wandb.Api(timeout=60)


def wandb_record(run: Any, entity_project: str) -> dict[str, Any]:
    """A W&B run's records in the shape `read_run_dir` gives for a run directory."""
    history = list(run.scan_history())
    summary = summary_fields(history, run.summary)
    config = {k: v for k, v in dict(run.config).items() if not str(k).startswith("_") and k != "provenance"}
    state = "done" if summary else _STATE_MAP.get(str(run.state).lower(), "interrupted")
    return {
        "run_id": run.name or run.id,
        "path": f"{PATH_PREFIX}{entity_project}/{run.id}",
        "config": config,
        "status": {"state": state, "message": ""},
        "summary": summary or None,
        "epochs_done": last_epoch(history),
        "error": None,
    }


def summary_fields(history: Iterable[Mapping[str, Any]], run_summary: Mapping[str, Any]) -> dict[str, Any]:
    """The `summary/<field>` values: from the history rows (the last value of each), else from the run summary."""
    fields: dict[str, Any] = {}
    for row in history:
        for key, value in row.items():
            if key.startswith(SUMMARY_PREFIX) and value is not None:
                fields[key[len(SUMMARY_PREFIX) :]] = value
    if not fields:
        fields = {
            k[len(SUMMARY_PREFIX) :]: v
            for k, v in dict(run_summary).items()
            if k.startswith(SUMMARY_PREFIX) and v is not None
        }
    return fields


def last_epoch(history: Iterable[Mapping[str, Any]]) -> int | None:
    """How many epochs the run logged (its metrics rows carry `epoch`, 1-based)."""
    epochs = [int(row["epoch"]) for row in history if row.get("epoch") is not None]
    return max(epochs) if epochs else None
