"""An estimated T's record built from the tensor itself: its diagonal mean and condition number, computed in float64,
then checked by transition_check.py. Apart from that module so that reading, planning and rendering the records (the
table notes, `repro sweep status`) loads no torch."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.recorders.transition_check import checked_record


def estimate_record(
    t: Tensor,
    *,
    estimator_run: str,
    estimate_at: str,
    epoch: int | None,
    noisy_val_loss: float | None,
    val_acc: float | None,
    warmup_epochs: int,
) -> dict[str, Any]:
    """What a run records of its estimated T, with its warnings (an empty list: none)."""
    t64 = t.to(torch.float64)
    return checked_record(
        int(t.shape[0]),
        float(torch.diagonal(t64).mean()),
        float(torch.linalg.cond(t64)),
        estimator_run=estimator_run,
        estimate_at=estimate_at,
        epoch=epoch,
        noisy_val_loss=noisy_val_loss,
        val_acc=val_acc,
        warmup_epochs=warmup_epochs,
    )
