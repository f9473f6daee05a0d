"""Who a run is on W&B and what it came from: its attempt id, group (the sweep cell), job type (the stage), tags,
provenance, and its artifacts with their lineage (fold runs -> replay final, teacher / label source -> student).

The W&B id is the attempt's own: `<run_id>-<8 hex>`, kept in `<run_dir>/wandb_id.txt` and reused only when the
directory resumes from its checkpoint, so a retrain (a fresh output root, or a run directory whose checkpoint was
moved aside) never resumes an old W&B run, which would drop every step at or below that run's last step.

Lineage offline: the SDK refuses `use_artifact` offline, so a run declares an input by logging a draft artifact
built from the producer run's files with `use_after_commit` (what `use_artifact(draft)` does online): the same
files give the same digest, so on `wandb sync` W&B finds the producer's version and draws the edge.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError
from repro.runs.io import atomic_write_text
from repro.runs.rundir import RunDir, run_id

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


# ------------------------------------------------------------------------------------------------ artifacts


def label_artifact(wandb: Any, run_dir: Any) -> Any | None:
    """The run's label trajectory (labels/), with its manifest as metadata; None when the run records none."""
    from repro.labels.trajectory import read_manifest  # deferred: torch is heavy (above)

    labels_dir = Path(run_dir.labels_dir)
    if not (labels_dir / "manifest.json").exists():
        return None
    art = wandb.Artifact(
        f"labels-{run_dir.run_id}",
        type="label-trajectory",
        metadata={**read_manifest(run_dir), "run_id": run_dir.run_id},
    )
    for path in sorted(p for p in labels_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        art.add_file(str(path), name=path.relative_to(labels_dir).as_posix(), policy="immutable")  # add_dir prints
    return art


def model_artifact(wandb: Any, run_dir: Any, *, upload: bool) -> Any | None:
    """The final checkpoint: uploaded with tracker.log_checkpoint=true, else a reference to the file (its path and
    checksum, nothing uploaded), which is enough for W&B to draw teacher -> student."""
    path = Path(run_dir.checkpoint_file).resolve()
    if not path.exists():
        return None
    art = wandb.Artifact(f"model-{run_dir.run_id}", type="model", metadata={"run_id": run_dir.run_id})
    if upload:
        art.add_file(str(path), name="checkpoint.pt", policy="immutable")
    else:
        art.add_reference(path.as_uri(), name="checkpoint.pt")
    return art


def input_artifacts(wandb: Any, config: Mapping[str, Any]) -> list[Any]:
    """Drafts of the artifacts this run reads: a replay final its fold runs' label trajectories, a student its
    teacher's model or its label source's trajectory (a replay source: its fold runs'), built as the producer run
    built them."""
    from repro.methods import METHODS, method_class  # deferred: torch is heavy (above)

    method = config["method"]["name"]
    if method == "replay":
        return _fold_label_artifacts(wandb, config)
    cls = method_class(method) if method in METHODS else None
    if cls is None or not getattr(cls, "source_option", None) or not config["method"].get(cls.source_option):
        return []  # reads no other run (loss correction with a known or given T names no estimator)
    source: RunDir = cls.source_run(config)
    upload = bool(((source.read_config() or {}).get("tracker") or {}).get("log_checkpoint"))
    if method != "distillation":
        source_config = source.read_config() or {}
        if source_config.get("method", {}).get("name") == "replay":  # its labels: its folds' averaged trajectory
            return _fold_label_artifacts(wandb, {**source_config, "output_root": str(source.path.parent.parent)})
        art = label_artifact(wandb, source)
        if art is not None:
            return [art]
    art = model_artifact(wandb, source, upload=upload)
    return [art] if art is not None else []


def _fold_label_artifacts(wandb: Any, replay_config: Mapping[str, Any]) -> list[Any]:
    from repro.labels.fold_runs import finished_fold_runs  # deferred: torch is heavy (above)

    return [a for rd in finished_fold_runs(replay_config) if (a := label_artifact(wandb, rd)) is not None]


def use_artifact(run: Any, artifact: Any, *, offline: bool) -> None:
    """Declare `artifact` (a draft) an input of `run`, online and offline alike (module docstring)."""
    if not offline:
        run.use_artifact(artifact)
        return
    run._log_artifact(artifact, aliases=[], is_user_created=True, use_after_commit=True)
