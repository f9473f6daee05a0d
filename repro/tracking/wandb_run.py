"""Who a run is on W&B: its attempt id, group (the sweep cell), job type (the stage), tags and provenance (its
artifacts and their lineage are the end of the run: repro/tracking/wandb_end.py).

The W&B id is the attempt's own: `<run_id>-<8 hex>`, kept in `<run_dir>/wandb_id.txt` and reused only when the
directory resumes from its checkpoint, so a retrain (a fresh output root, or a run directory whose checkpoint was
moved aside) never resumes an old W&B run, which would drop every step at or below that run's last step.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError
from repro.runs.io import atomic_write_text
from repro.runs.rundir import run_id

ID_FILE = "wandb_id.txt"
MODES = {"dryrun": "offline", "run": "online"}  # W&B's legacy spellings
TAG_MAX = 64


def split_project(text: str) -> tuple[str, str]:
    """ENTITY/PROJECT -> (entity, project), or a UserError."""
    parts = str(text).split("/")
    if len(parts) != 2 or not all(parts):
        raise UserError(
            f"{text!r}: give the W&B project as ENTITY/PROJECT (e.g. my-team/soft-labels-repro), the "
            "entity and project the runs were logged to (tracker.entity, tracker.project)."
        )
    return parts[0], parts[1]


def wandb_mode(settings: Mapping[str, Any]) -> str:
    mode = str(settings.get("mode") or "offline")
    return MODES.get(mode, mode)


def attempt_id(run_dir: Path, run_id: str, *, resuming: bool) -> tuple[str, bool]:
    """(W&B id, whether it resumes an existing W&B run)."""
    path = Path(run_dir) / ID_FILE
    if resuming and path.exists():
        stored = path.read_text().strip()
        if stored:
            return stored, True
    new = f"{run_id}-{secrets.token_hex(4)}"
    atomic_write_text(path, new + "\n")
    return new, False


def job_type(config: Mapping[str, Any]) -> str:
    return str((config.get("sweep") or {}).get("stage") or "train")


def group(config: Mapping[str, Any]) -> str:
    """The sweep cell (sweep / row / column), so W&B's grouped mean and band are over seeds; a plain run: its config
    without the seed (its seeds group together)."""
    sweep = config.get("sweep") or {}
    if sweep.get("name") and sweep.get("row") is not None:
        return " | ".join(str(x) for x in (sweep["name"], sweep["row"], sweep.get("column")) if x is not None)[:128]

    return run_id({**config, "seed": None})


def tags(config: Mapping[str, Any], extra: Any = ()) -> list[str]:
    method, data, model = config["method"]["name"], config["data"]["name"], config["model"]["name"]
    noise = config.get("noise") or {}
    fraction = float(noise.get("fraction") or 0.0)
    found = [
        f"method:{method}",
        f"data:{data}",
        f"model:{model}",
        f"noise:{noise.get('kind')}-{fraction:g}"
        if fraction
        else f"noise:{noise.get('kind')}-{noise.get('type')}"
        if noise.get("type")
        else "noise:none",
    ]
    sweep = config.get("sweep") or {}
    found += [
        f"{tag}:{sweep[k]}"
        for k, tag in (("name", "sweep"), ("row", "row"), ("column", "column"))
        if sweep.get(k) is not None
    ]
    return list(dict.fromkeys([t[:TAG_MAX] for t in [*found, *(str(x) for x in extra or ())]]))


def provenance_config(run_dir: Path) -> dict[str, Any]:
    """provenance.json's latest session, for the W&B config (commit, dirty, versions, device, host, SLURM)."""
    from repro.runs import provenance  # deferred: torch is heavy; `repro wandb` and analysis import this module

    record = provenance.read(run_dir)
    keys = (
        "commit",
        "dirty",
        "versions",
        "device",
        "device_name",
        "cpu",
        "cuda",
        "cudnn",
        "gpu_count",
        "host",
        "slurm",
    )
    return {k: record.get(k) for k in keys if k in record}
