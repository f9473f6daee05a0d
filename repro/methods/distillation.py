"""Knowledge distillation (Hinton et al.; the paper's Sec. 3.4 and Table 4): the student trains on a finished
teacher run's temperature-scaled predictions, computed on the student's own augmented batch with the teacher in
eval mode (its BatchNorm statistics and weights never change).

Loss (Hinton et al.; Mueller et al. write it (1 - beta) H(y, p) + beta H(p_t(T), p(T))):
    hard_weight * CE(y, softmax(z_s)) + (1 - hard_weight) * T^2 * CE(softmax(z_t / T), softmax(z_s / T))
The student is softened by the same T while it trains (scored at T = 1), and T^2 keeps the soft term's gradient
scale independent of T. T = 0 is the teacher's arg-max as a one-hot target, against the student at T = 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.losses import soft_cross_entropy
from repro.methods.base import StepOutput, optimizer_step
from repro.methods.declarations.students import DistillationDeclaration
from repro.methods.from_run import LearnsFromRun
from repro.methods.temperature import scale_logits
from repro.runs.teachers import load_teacher


class Distillation(LearnsFromRun, declaration=DistillationDeclaration):
    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        # on the run's device in its memory format (channels_last on CUDA): the batches come in that format
        self.teacher = exp.hardware.prepare_model(load_teacher(self.source, exp.hardware.device))
        self.hard_weight = float(self.options.hard_weight)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        with torch.no_grad():
            targets = scale_logits(self.teacher(x), self.temperature)
        logits = exp.model(x)
        loss = distillation_loss(logits, targets, y, self.temperature, self.hard_weight)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())


def distillation_loss(logits: Tensor, targets: Tensor, y: Tensor, temperature: float, hard_weight: float) -> Tensor:
    """Hinton et al.'s loss for the student's logits, the teacher's scaled targets and the given labels y."""
    t = temperature if temperature > 0 else 1.0
    soft = soft_cross_entropy(logits / t, targets) * (t * t)
    if hard_weight == 0:
        return soft
    return hard_weight * F.cross_entropy(logits, y) + (1.0 - hard_weight) * soft
