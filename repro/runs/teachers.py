"""A finished teacher's network, loaded for its student (Sec. 3.4; finding the run and checking that it fits the
student's data: repro/runs/finished.py; a label source's converged labels: repro/labels/converged.py)."""

from __future__ import annotations

import torch
from torch import nn

from repro.errors import UserError
from repro.models import build_run_model
from repro.runs.records import load_checkpoint, read_config, reading
from repro.runs.rundir import RunDir


def load_teacher(rd: RunDir, device: torch.device, *, role: str = "teacher run") -> nn.Module:
    """The teacher network of a finished run, from its config and last checkpoint (weights only), in eval mode
    with frozen parameters (its BatchNorm statistics never change)."""
    cfg = read_config(rd, role=role)
    if not rd.checkpoint_file.exists():
        raise UserError(
            f"The {role} {rd.run_id} is done but its checkpoint {rd.checkpoint_file} is gone, so its network "
            "cannot be loaded. Restore the file, or re-train the teacher in a fresh output_root."
        )
    with reading(rd, rd.config_file, role=role):
        model = build_run_model(cfg["model"], cfg["data"])
    state = load_checkpoint(rd, role=role)
    with reading(rd, rd.checkpoint_file, role=role):  # weights of another shape: not this run's checkpoint
        model.load_state_dict(state["model"])
    model.eval().requires_grad_(False)
    return model.to(device)
