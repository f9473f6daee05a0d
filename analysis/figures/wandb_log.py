"""`repro figures --wandb ENTITY/PROJECT`: the rendered figures logged as images in one W&B analysis run
(job_type "analysis"), offline unless WANDB_MODE=online, beside the PNGs written to --out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from repro.tracking.wandb_run import MODES, split_project


def log_figures(
    entity_project: str,
    written: Mapping[str, Path | None],
    *,
    runs_root: str | Path,
    out_dir: str | Path,
    log: Callable[[str], Any] = print,
) -> str | None:
    """Log every written figure under `figures/<name>`; returns the W&B run's directory (None: nothing to log)."""
    entity, project = split_project(entity_project)
    images = {name: path for name, path in written.items() if path is not None}
    if not images:
        log("W&B: no figure was rendered, nothing logged.")
        return None
    import wandb  # deferred: wandb is heavy

    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(
        entity=entity,
        project=project,
        job_type="analysis",
        name="paper-figures",
        tags=["analysis", "figures"],
        dir=str(out_dir),
        mode=MODES.get(mode, mode),
        config={"runs": str(runs_root)},
        reinit="finish_previous",
        settings=wandb.Settings(silent=True, console="off"),
    )
    try:
        run.log({f"figures/{name}": wandb.Image(str(path), caption=name) for name, path in images.items()})
        where = run.dir
    finally:
        run.finish()
    log(f"W&B: {len(images)} figure(s) logged to {entity_project} ({mode} run under {out_dir}/wandb/)")
    return where
