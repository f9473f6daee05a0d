"""Online Label Smoothing (Zhang et al., "Delving Deep into Label Smoothing", IEEE TIP 2021): per-class soft labels
learned from the model's own correct predictions, with no meta set. The non-meta rival of learned class labels.

The update rule is their CIFAR script's (zhangchbin/OnlineLabelSmoothing, cifar/scripts/train_cifar_all_methods.py,
`--method ols`):

- a C x C matrix S holds one soft label per class (row y: the target of every sample labelled y);
- every step, each training sample whose top-1 prediction (the step's own forward, before its update) equals its
  given label adds its softmax to the running sum of its class's row, and counts;
- the loss is `hard_weight * CE(logits, y) + (1 - hard_weight) * soft CE(logits, S[y])` (their 0.5 and 0.5);
- after the epoch each row becomes the mean of what it gathered, and a class no sample of which was predicted
  correctly gets the uniform 1/C;
- S starts at zero (`init: zeros`, their CIFAR script: the first epoch is half the cross-entropy only) or at the
  uniform 1/C (`init: uniform`, their fine-grained solver, fine-grained/solver.py).

Noisy labels are taken as given: "correct" means "agrees with the given label", as in their code. Settings and
where each comes from: repro/conf/method/online_label_smoothing.yaml, docs/methods/online_label_smoothing.md.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.losses import soft_cross_entropy
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.online_label_smoothing import OnlineLabelSmoothingDeclaration
from repro.training.hardware import index_add_rows_


class OnlineLabelSmoothing(Method, declaration=OnlineLabelSmoothingDeclaration):
    """One forward; the hard and the soft cross-entropy on the class's soft label of the previous epoch; the
    statistics of the correct predictions gathered for the next epoch's soft labels."""

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        classes = exp.data.num_classes
        self.hard_weight = float(self.options.hard_weight)
        start = 0.0 if self.options.init == "zeros" else 1.0 / classes
        self.soft = torch.full(
            (classes, classes), start, device=exp.hardware.device
        )  # row y: the soft label of class y
        self.sums = torch.zeros(
            classes, classes, device=exp.hardware.device
        )  # this epoch's softmax sums, per given class
        self.counts = torch.zeros(classes, device=exp.hardware.device)

    def set_epoch(self, exp, epoch: int) -> None:
        self.sums.zero_()
        self.counts.zero_()

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        with torch.no_grad():
            probs = F.softmax(logits.detach().float(), dim=1)
            right = (probs.argmax(1) == y).to(probs.dtype)  # a 0/1 weight, not a mask: no host sync on a GPU
            index_add_rows_(self.sums, y, probs * right[:, None])
            index_add_rows_(self.counts, y, right)
        hard = F.cross_entropy(logits, y)
        loss = self.hard_weight * hard + (1 - self.hard_weight) * soft_cross_entropy(logits, self.soft[y])
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def end_epoch(self, exp) -> dict[str, Any]:
        """The next epoch's soft labels: each class's mean softmax over its correctly predicted samples (uniform for
        a class with none); logged: their mean target-class probability and how many classes had none."""
        classes = self.soft.shape[0]
        seen = self.counts > 0
        self.soft = torch.where(seen[:, None], self.sums / self.counts.clamp_min(1)[:, None], 1.0 / classes)
        return {
            "ols_target_prob_mean": float(self.soft.diagonal().double().mean()),
            "ols_classes_without_correct": int((~seen).sum()),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"soft": self.soft.cpu(), "sums": self.sums.cpu(), "counts": self.counts.cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in ("soft", "sums", "counts"):
            getattr(self, name).copy_(state[name])
