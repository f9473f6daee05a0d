"""The interface every label parametrisation implements, and the argument checks and failure they share.

Why this module: the training loop and repro.meta depend only on `LabelParametrisation` and
`NonFiniteLabelsError`; the kinds (fixed.py, learned.py, replay.py) depend on it, never on each other.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from repro.errors import UserError


class NonFiniteLabelsError(FloatingPointError):
    """A label update produced NaN or inf; the training loop treats it like a NaN loss (run failed)."""


def check_num_classes(num_classes: int) -> None:
    """Refuse fewer than 2 classes or a non-integer count (UserError)."""
    if int(num_classes) != num_classes or num_classes < 2:
        raise UserError(f"Soft labels need at least 2 classes (an integer), got num_classes={num_classes}.")


def check_lr(lr: float) -> None:
    """Refuse a label learning rate that is not a finite number > 0 (UserError)."""
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise UserError(f"The label learning rate must be a finite number > 0, got lr={lr!r}.")


def check_grad_shape(grad_p: Tensor, y: Tensor, num_classes: int) -> None:
    """Refuse a meta-gradient that is not (batch, C) for the batch `y` (UserError)."""
    if grad_p.shape != (y.shape[0], num_classes):
        raise UserError(
            f"The meta-gradient must have shape (batch, C) = ({y.shape[0]}, {num_classes}), got {tuple(grad_p.shape)}."
        )


def raise_if_not_finite(values: Tensor, what: str) -> None:
    """NonFiniteLabelsError if `values` (the would-be new parameters or step) hold NaN or inf."""
    # CPU only: on a GPU the check is a host sync per meta step. There a non-finite label makes the same step's
    # loss non-finite, which the loop's running totals catch (repro/training/steptotals.py) before the epoch's
    # checkpoint.
    if values.device.type == "cpu" and not bool(torch.isfinite(values).all()):
        raise NonFiniteLabelsError(
            f"The {what} became NaN or infinite after a meta-gradient step; the labels were left at their "
            "last finite values. Lower the label learning rate or the model learning rate."
        )


class LabelParametrisation:
    """The interface the training loop and repro.meta rely on (see docs/architecture.md)."""

    learnable: bool = False
    num_classes: int

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        """Soft labels (n, C) for the batch rows `idx` (global sample indices) with given labels `y`."""
        raise NotImplementedError

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        """Chain rule from dL_meta/dp (n, C) to the own parameters, then one SGD step."""
        raise RuntimeError(f"{type(self).__name__} has no learnable parameters; it takes no meta-gradient.")

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def to(self, device: torch.device | str) -> LabelParametrisation:
        """Move the parameters (if any) to `device`; returns self."""
        return self
