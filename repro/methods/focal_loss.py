"""Focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017) as a label-noise baseline
(Tables 6-7 list it after Meta-Weight-Net's Table 1): the cross-entropy of each sample is scaled by
(1 - q_y)^gamma, so samples the model already fits well count less. Settings: docs/methods/focal_loss.md."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.errors import UserError
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.focal_loss import FocalLossDeclaration


def focal_loss(logits: Tensor, y: Tensor, gamma: float) -> Tensor:
    """Mean over the batch of -(1 - q_{i,y_i})^gamma log q_{i,y_i}, q = softmax(logits); gamma=0 is the
    cross-entropy. 1 - q is taken as -expm1(log q) (exact near q = 1) and kept above the smallest positive
    float, so that a gamma below 1 never gives an infinite derivative (0^(gamma-1)) and a NaN gradient."""
    if logits.dim() != 2 or y.shape != logits.shape[:1]:
        raise UserError(
            f"focal_loss needs logits (n, C) and labels (n,), got {tuple(logits.shape)} and {tuple(y.shape)}."
        )
    log_q = F.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
    if gamma == 0:
        return -log_q.mean()
    one_minus_q = (-torch.expm1(log_q)).clamp_min(torch.finfo(log_q.dtype).tiny)
    return -(one_minus_q.pow(gamma) * log_q).mean()


class FocalLoss(Method, declaration=FocalLossDeclaration):
    """One forward, the focal loss on the given (possibly noisy) labels, one optimizer step."""

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.gamma = float(self.options.gamma)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        loss = focal_loss(logits, y, self.gamma)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def state_dict(self) -> dict[str, Any]:
        return {}
