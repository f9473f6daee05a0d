"""The inputs every noise model checks before its tensor work: the class count, the training targets (a 1-D integer
tensor of classes in range) and `among`, the training part (global indices or a boolean mask), each refused with a
UserError that says what to pass instead."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.errors import UserError


def on_cpu(targets: Any) -> Any:
    return targets.cpu() if isinstance(targets, Tensor) else targets


def check_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise UserError(
            f"The noise model needs num_classes >= 2; got {num_classes!r}. Pass the data set's class count."
        )
    return num_classes


def check_inputs(targets: Tensor, fraction: float, num_classes: int, among: Tensor | None) -> tuple[Tensor, Tensor]:
    """(targets as int64, boolean mask of `among`) after checking the arguments a model is called with."""
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.dtype.is_floating_point:
        raise UserError(
            "The noise model needs the training targets as a 1-D integer tensor of class indices; got "
            f"{type(targets).__name__} {getattr(targets, 'shape', '')}. Pass ArrayDataset.targets."
        )
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise UserError(
            f"noise.fraction must be a number in [0, 1); got {fraction!r}. The paper uses 0.2, 0.4, 0.6 and 0.8."
        )
    check_classes(num_classes)
    targets = targets.long()
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise UserError(
            f"Targets must lie in [0, {num_classes - 1}] for num_classes={num_classes}; found values in "
            f"[{int(targets.min())}, {int(targets.max())}]. Pass the data set's true number of classes."
        )
    return targets, selection_mask(among, targets.numel())


def selection_mask(among: Tensor | None, n: int) -> Tensor:
    if among is None:
        return torch.ones(n, dtype=torch.bool)
    among = torch.as_tensor(among).cpu()
    if among.dtype == torch.bool:
        if among.shape != (n,):
            raise UserError(
                f"`among` as a boolean mask must have one entry per sample ({n}); got shape {tuple(among.shape)}. "
                "Pass a mask over the training targets or the split's train_idx."
            )
        return among
    if among.dim() != 1 or among.dtype.is_floating_point:
        raise UserError(
            "`among` must be a 1-D tensor of global sample indices (e.g. the split's train_idx) or a boolean mask."
        )
    if among.numel() and (int(among.min()) < 0 or int(among.max()) >= n):
        raise UserError(f"`among` holds indices outside [0, {n - 1}]: pass global indices into the training targets.")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[among.long()] = True
    return mask
