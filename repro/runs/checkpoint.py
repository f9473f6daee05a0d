"""Safe, atomic checkpoints: written by temp file + rename, read with `weights_only=True` (no arbitrary unpickling)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from repro.errors import UserError
from repro.runs.io import atomic_torch_save


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    atomic_torch_save(state, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint written by `save_checkpoint`; a damaged file is reported, never overwritten."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged zip/pickle
        raise UserError(
            f"The checkpoint {path} cannot be read "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            "It was left untouched. To recover, move it aside (e.g. `mv "
            f"{path} {path}.bad`) and run the same command again: the run restarts from epoch 0 "
            "(its config and logs are kept)."
        ) from None
    if not isinstance(state, dict) or "epoch" not in state or "model" not in state:
        raise UserError(
            f"The checkpoint {path} is not a checkpoint of this project (no 'epoch'/'model' entries). It was left "
            f"untouched; move it aside (e.g. `mv {path} {path}.bad`) and run the same command again."
        )
    return state
