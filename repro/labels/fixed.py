"""The fixed targets: one-hot and label smoothing.

Why this module: they hold no parameters and take no meta-gradient (the base class refuses one), so they need none
of the learned kinds' update machinery.
"""

from __future__ import annotations

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels.base import LabelParametrisation, check_num_classes
from repro.losses import one_hot, smoothed_targets


class OneHotLabels(LabelParametrisation):
    """The baseline: fixed one-hot targets."""

    def __init__(self, num_classes: int, dtype: torch.dtype = torch.float32) -> None:
        check_num_classes(num_classes)
        self.num_classes = int(num_classes)
        self.dtype = dtype

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return one_hot(y, self.num_classes, self.dtype)


class SmoothedLabels(LabelParametrisation):
    """Fixed label smoothing, Szegedy et al.'s convention (see repro.losses.smoothed_targets)."""

    def __init__(self, num_classes: int, epsilon: float, dtype: torch.dtype = torch.float32) -> None:
        check_num_classes(num_classes)
        if not 0.0 <= epsilon <= 1.0:
            raise UserError(f"Label smoothing epsilon must lie in [0, 1], got {epsilon}.")
        self.num_classes = int(num_classes)
        self.epsilon = float(epsilon)
        self.dtype = dtype

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return smoothed_targets(y, self.num_classes, self.epsilon, self.dtype)
