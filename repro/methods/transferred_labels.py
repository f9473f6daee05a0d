"""Transferred labels (the paper's Sec. 3.4, "Ours (Labels)" of Table 4 and Table 5): the student trains on another
run's converged labels, temperature scaled (p^(1/T), renormalised; T = 1 leaves them as they are, T = 0 is the
arg-max one-hot). The source is a finished learned-labels run: the final (method=replay) run of a 5-fold row, whose
fold-averaged labels at the last epoch are used, or a single instance-label run
(repro.runs.teachers.converged_labels).
The labels are fixed for the whole run; nothing of them is in the checkpoint (they are re-read on resume)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig
from torch import Tensor

from repro.labels.converged import check_label_source, converged_labels
from repro.losses import soft_cross_entropy
from repro.methods.base import StepOutput, optimizer_step
from repro.methods.declarations.students import TransferredLabelsDeclaration
from repro.methods.from_run import LearnsFromRun, TemperatureRecord
from repro.methods.temperature import scale_probabilities


class TransferredLabels(LearnsFromRun, declaration=TransferredLabelsDeclaration):
    same_samples = True

    @classmethod
    def source_run(cls, cfg: DictConfig):
        rd = super().source_run(cfg)
        check_label_source(rd)
        return rd

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        labels, self.learned_rows = converged_labels(self.source, exp.data.train_targets)
        self.targets = scale_probabilities(labels, self.temperature).to(exp.hardware.device)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        loss = soft_cross_entropy(logits, self.targets[idx])
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        return [_LabelsRecord(self)]


class _LabelsRecord(TemperatureRecord):
    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "transferred_rows": self.method.learned_rows}
