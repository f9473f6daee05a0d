"""The paper's learned labels (Sec. 2): class labels (one smoothing parameter per class) and instance labels
(per-sample logits). Each takes the meta-gradient dL_meta/dp of a batch's rows, applies the chain rule to its own
parameters and makes a plain SGD step (the paper's Eq. 5; no momentum, no weight decay, no schedule).

Why this module: these two are the only kinds with parameters that the meta step updates and a checkpoint holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import UserError
from repro.labels.base import LabelParametrisation, check_grad_shape, check_lr, check_num_classes, raise_if_not_finite
from repro.losses import one_hot
from repro.training.hardware import index_add_rows_


class ClassLabels(LabelParametrisation):
    """The paper's class labels (Sec. 2.1): one smoothing parameter alpha_c per class, clamped to [0, 1];
    p = 1 - alpha_y on the target and alpha_y / (C - 1) on every other class.

    `init_target_prob` sets alpha = 1 - init for every class. Any init in (0, 1] is accepted, including
    init < 1/C (the target then starts with less mass than each other class): the clamp to [0, 1] that the
    paper uses lets alpha reach that region during training anyway, so the init may start there too.
    """

    learnable = True

    def __init__(
        self, num_classes: int, init_target_prob: float, lr: float, dtype: torch.dtype = torch.float32
    ) -> None:
        check_num_classes(num_classes)
        if not 0.0 < init_target_prob <= 1.0:
            raise UserError(
                f"Class labels need an initial target probability in (0, 1], got {init_target_prob}; "
                "the paper searches {0.3, 0.5, 0.7, 0.9}."
            )
        check_lr(lr)
        self.num_classes = int(num_classes)
        self.lr = float(lr)
        self.alpha = torch.full((self.num_classes,), 1.0 - float(init_target_prob), dtype=dtype)

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        y = y.to(self.alpha.device)
        a = self.alpha[y].unsqueeze(1)
        p = (a / (self.num_classes - 1)).expand(-1, self.num_classes).clone()
        p.scatter_(1, y.unsqueeze(1), 1.0 - a)
        return p

    def alpha_gradient(self, y: Tensor, grad_p: Tensor) -> Tensor:
        """dL/dalpha (C,) from dL/dp (n, C): per row dp/dalpha_y is -1 on the target and 1/(C-1)
        elsewhere; rows of the same class add up."""
        check_grad_shape(grad_p, y, self.num_classes)
        y = y.to(self.alpha.device)
        grad_p = grad_p.to(self.alpha)
        on_target = grad_p.gather(1, y.unsqueeze(1)).squeeze(1)
        off_target = grad_p.sum(dim=1) - on_target
        per_row = off_target / (self.num_classes - 1) - on_target
        return torch.zeros_like(self.alpha).index_add_(0, y, per_row)

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        new_alpha = (self.alpha - self.lr * self.alpha_gradient(y, grad_p)).clamp_(0.0, 1.0)
        raise_if_not_finite(new_alpha, "class-label smoothing parameters")
        self.alpha = new_alpha

    def target_probabilities(self) -> Tensor:
        """The target-class probability 1 - alpha_c of every class (C,), for logging trajectories."""
        return 1.0 - self.alpha

    def state_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        alpha = state["alpha"]
        if alpha.shape != self.alpha.shape:
            raise UserError(
                f"The saved class labels have shape {tuple(alpha.shape)} but this run has "
                f"{self.num_classes} classes; the checkpoint belongs to another configuration."
            )
        self.alpha = alpha.to(self.alpha).clone()

    def to(self, device: torch.device | str) -> ClassLabels:
        self.alpha = self.alpha.to(device)
        return self


def class_labels_matrix(target_prob: np.ndarray | torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, C) class labels from per-class target probabilities t_c: t_y on the target, (1 - t_y)/(C - 1) elsewhere
    (`ClassLabels.soft_labels` of every sample at once, from a recorded or averaged trajectory's row)."""
    t = torch.tensor(np.asarray(target_prob, dtype=np.float32))
    num_classes = t.shape[0]
    on = t[targets.long().cpu()].unsqueeze(1)
    labels = ((1.0 - on) / (num_classes - 1)).expand(-1, num_classes).clone()
    labels.scatter_(1, targets.long().cpu().unsqueeze(1), on)
    return labels


class InstanceLabels(LabelParametrisation):
    """The paper's instance labels (Sec. 2.2): per-sample logits z (N, C), p = softmax(z[idx]).

    Initialised to log p0 with p0 = init on the given target and (1 - init)/(C - 1) elsewhere, so that the
    softmax starts exactly at p0. init must lie in (0, 1): init = 1 would put log 0 = -inf in z, and rows
    at -inf never move. Updates are sparse: only the batch's rows change (no decay or momentum elsewhere).
    """

    learnable = True

    def __init__(
        self,
        num_samples: int,
        num_classes: int,
        targets: Tensor,
        init_target_prob: float,
        lr: float,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        check_num_classes(num_classes)
        if not 0.0 < init_target_prob < 1.0:
            raise UserError(
                f"Instance labels need an initial target probability strictly between 0 and 1, got "
                f"{init_target_prob}; 1 would make the non-target logits -inf (they could never learn). "
                "The paper searches {0.3, 0.5, 0.7, 0.9}."
            )
        check_lr(lr)
        targets = torch.as_tensor(targets)
        if targets.shape != (num_samples,):
            raise UserError(
                f"Instance labels need one target per training sample: expected shape ({num_samples},), "
                f"got {tuple(targets.shape)}."
            )
        self.num_samples = int(num_samples)
        self.num_classes = int(num_classes)
        self.lr = float(lr)
        off = math.log((1.0 - init_target_prob) / (num_classes - 1))
        p0 = one_hot(targets.long(), self.num_classes, dtype)
        self.logits = p0 * (math.log(init_target_prob) - off) + off

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return F.softmax(self.logits[idx.to(self.logits.device)], dim=1)

    def logit_gradient(self, idx: Tensor, grad_p: Tensor) -> Tensor:
        """dL/dz for the batch rows (n, C) through the softmax: p * (g - <p, g>)."""
        p = F.softmax(self.logits[idx.to(self.logits.device)], dim=1)
        grad_p = grad_p.to(p)
        return p * (grad_p - (p * grad_p).sum(dim=1, keepdim=True))

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        check_grad_shape(grad_p, idx, self.num_classes)
        step = self.logit_gradient(idx, grad_p).mul_(-self.lr)
        raise_if_not_finite(step, "instance-label logits")
        # Touches the batch rows only and sums the steps of a sample drawn twice (deterministically on CUDA when
        # deterministic algorithms are on).
        index_add_rows_(self.logits, idx.to(self.logits.device), step)

    def probabilities(self) -> Tensor:
        """All soft labels (N, C), e.g. for label snapshots and noise-correction rates."""
        return F.softmax(self.logits, dim=1)

    def state_dict(self) -> dict[str, Any]:
        return {"logits": self.logits.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        logits = state["logits"]
        if logits.shape != self.logits.shape:
            raise UserError(
                f"The saved instance labels have shape {tuple(logits.shape)} but this run needs "
                f"{tuple(self.logits.shape)}; the checkpoint belongs to another configuration."
            )
        self.logits = logits.to(self.logits).clone()

    def to(self, device: torch.device | str) -> InstanceLabels:
        self.logits = self.logits.to(device)
        return self
