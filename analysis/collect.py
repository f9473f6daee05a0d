"""Run directories -> one pandas frame, one row per run (the frame every table and figure starts from).

Only the small per-run records are read (config.yaml, status.json, summary.json, provenance.json, and the last line
of metrics.jsonl, to mark a run whose log was cut short), never the metrics history or the label trajectory, so
collecting thousands of runs takes seconds whatever their logs' lengths.
A run whose records cannot be read is "unreadable": tables list it as not averaged, with the reason. The W&B source
(analysis/wandb_source.py) builds the same frame from the W&B API; `frame_from_records` is the one place that
shapes a row, so the two sources cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from repro.errors import UserError
from repro.runs.rundir import flatten, hashable
from repro.runs.yaml_text import load_yaml

# Run states. "done" means summary.json exists (the run directory contract); the others come from status.json.
DONE = "done"
FAILED_STATES = ("failed", "unreadable")

# Leading columns, then the summary fields, then the flattened config, then the source-specific columns.
ID_COLUMNS = ["run_id", "state", "epochs_done"]
SOURCE_COLUMNS = ["message", "path"]  # differ by source (a run directory vs a W&B run); everything else must not


def collect_runs(output_root: str | Path) -> pd.DataFrame:
    """One row per directory under `<output_root>/runs/`: run_id, state, epochs_done, summary fields (NaN until
    the run is done), every config field flattened to dotted names (data.name, method.name, seed, ...), path."""
    runs_dir = Path(output_root) / "runs"
    records = [read_run_dir(path) for path in sorted(runs_dir.iterdir()) if path.is_dir()] if runs_dir.is_dir() else []
    return frame_from_records(records)


def read_run_dir(path: Path) -> dict[str, Any]:
    """The raw records of one run directory: config, status, summary (None where absent)."""
    record: dict[str, Any] = {
        "run_id": path.name,
        "path": str(path),
        "config": None,
        "status": None,
        "summary": None,
        "error": None,
        "provenance": None,
    }
    try:
        if (path / "config.yaml").exists():
            record["config"] = load_yaml((path / "config.yaml").read_text(encoding="utf-8"))
        if (path / "status.json").exists():
            record["status"] = json.loads((path / "status.json").read_text(encoding="utf-8"))
        if (path / "summary.json").exists():
            record["summary"] = json.loads((path / "summary.json").read_text(encoding="utf-8"))
            if not isinstance(record["summary"], dict):
                raise ValueError("summary.json is not a JSON object")
        if (path / "metrics.jsonl").exists():  # its end, not its whole history: a damaged log marks the run broken
            check_metrics_end(path / "metrics.jsonl", record["summary"])
        if (path / "provenance.json").exists():  # runs from before provenance records have none
            record["provenance"] = json.loads((path / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        record["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())} (in {path})"
        record["summary"] = None
    return record


def check_metrics_end(path: Path, summary: Mapping[str, Any] | None, *, window: int = 1 << 16) -> None:
    """Raise ValueError if a run's metrics.jsonl is damaged at its end: its last line cut short (no final newline,
    or not a JSON object), or, for a done run, not the last epoch its summary counts (a log cut at a line boundary).
    Reads the file's last line only, from the end, whatever the log's length: the log is rewritten whole and
    atomically each epoch (repro/runs/rundir.py), so damage after the fact (a disk full while a copy ran, an
    interrupted rsync) cuts its end."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            return
        start = size
        while True:  # widen the window until it holds the whole last line
            start = max(0, start - window)
            f.seek(start)
            tail = f.read(size - start)
            body = tail.rstrip(b"\n")
            if b"\n" in body or start == 0:
                break
            window *= 2
    if not tail.endswith(b"\n"):
        raise ValueError("metrics.jsonl ends in the middle of a line (the log was cut short)")
    last = json.loads(body.rsplit(b"\n", 1)[-1])
    if not isinstance(last, dict):
        raise ValueError("metrics.jsonl's last line is not a JSON object")
    epochs = (summary or {}).get("epochs")
    if isinstance(epochs, int) and isinstance(last.get("epoch"), int) and last["epoch"] != epochs:
        raise ValueError(
            f"metrics.jsonl ends at epoch {last['epoch']}, but the summary counts {epochs} epochs (the log was cut "
            "short)"
        )


def run_state(record: Mapping[str, Any]) -> str:
    """done (summary exists) | running | interrupted | failed (status.json) | missing-status | unreadable."""
    if record.get("error"):
        return "unreadable"
    if record.get("summary") is not None:
        return DONE
    status = record.get("status")
    if not status:
        return "missing-status"
    state = str(status.get("state", ""))
    # "done" without a summary cannot come from the training loop (the summary is written first); treat the run
    # as unfinished: running it again writes the summary from its last checkpoint.
    return state if state in ("running", "interrupted", "failed") else "interrupted"


def record_row(record: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One frame row from a run's raw records (shared by the run-directory and the W&B sources); `config`: its
    config already flattened, if the caller has it."""
    state = run_state(record)
    status = record.get("status") or {}
    summary = record.get("summary") or {}
    config = flatten(record.get("config") or {}) if config is None else config
    row: dict[str, Any] = {"run_id": record["run_id"], "state": state}
    if "epochs_done" in record:
        row["epochs_done"] = record["epochs_done"]
    else:
        row["epochs_done"] = summary.get("epochs", status.get("epoch"))
    for key, value in summary.items():
        row[f"summary.{key}" if key in config or key in ID_COLUMNS else key] = hashable(value)
    row.update(config)
    row.setdefault("precision", "fp32")  # runs from before the key trained in float32
    row["commit"] = _commit(record.get("provenance"))
    row["message"] = record.get("error") or status.get("message") or ""
    row["path"] = record.get("path", "")
    return row


def _commit(prov: Mapping[str, Any] | None) -> str | None:
    """The commit(s) a run ran (comma-separated if a resume ran another one; '+dirty' for a modified tree)."""
    sessions = (prov or {}).get("sessions") or []
    names = [str(s.get("commit") or "unknown") + ("+dirty" if s.get("dirty") else "") for s in sessions]
    return ",".join(dict.fromkeys(names)) or None


def frame_from_records(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The frame with a stable column order: ID_COLUMNS, summary fields, config fields, SOURCE_COLUMNS."""
    records = list(records)
    configs = [flatten(r.get("config") or {}) for r in records]
    rows = [record_row(r, config) for r, config in zip(records, configs)]
    if not rows:
        return pd.DataFrame(columns=[*ID_COLUMNS, *SOURCE_COLUMNS])
    frame = pd.DataFrame.from_records(rows)
    config_keys = set().union(*configs)
    rest = [c for c in frame.columns if c not in ID_COLUMNS and c not in SOURCE_COLUMNS]
    summary_cols = sorted(c for c in rest if c not in config_keys)
    config_cols = sorted(c for c in rest if c in config_keys)
    frame = frame[[*ID_COLUMNS, *summary_cols, *config_cols, *SOURCE_COLUMNS]]
    frame["epochs_done"] = pd.to_numeric(frame["epochs_done"], errors="coerce").astype("Int64")
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def require_runs(frame: pd.DataFrame, source: str, unwritten: str) -> None:
    """Stop with a clear message when there is nothing to analyse: nothing gets written, and the message says what
    (`unwritten`: "no tables were written")."""
    if frame.empty:
        raise UserError(
            f"No runs found in {source}. Train or sweep first (`repro sweep sweeps/table1.yaml`, "
            "`repro train ...`), or point --runs at the output_root the runs were written to (the directory that "
            f"holds runs/<run_id>/); {unwritten}."
        )
