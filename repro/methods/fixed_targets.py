"""Fixed targets: one-hot (the baseline), label smoothing (Szegedy et al.) and the confidence penalty
(Pereyra et al.). The targets never change; the step is one forward, one backward, one optimizer step."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from omegaconf import DictConfig
from torch import Tensor

from repro.losses import confidence_penalty, soft_cross_entropy
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.fixed_targets import FixedTargetsDeclaration
from repro.methods.label_smearing import smoothing_matrix
from repro.methods.label_source import labels_for_run
from repro.methods.same_training import smearing_form


class FixedTargets(Method, declaration=FixedTargetsDeclaration):
    """`method.labels` (onehot | smoothing) picks the targets, `method.beta` > 0 adds the confidence penalty."""

    @classmethod
    def training_form(cls, config: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """One-hot and smoothed targets without the penalty are members of the smearing family (M = I, or
        (1 - eps) I + eps/C J)."""
        method, classes = config["method"], int(config["data"]["num_classes"])
        if float(method.get("beta") or 0.0):
            return None
        if method.get("labels") == "onehot":
            return smearing_form(torch.eye(classes, dtype=torch.float64))
        if method.get("labels") == "smoothing":
            return smearing_form(smoothing_matrix(classes, float(method["epsilon"])))
        return None

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.labels = labels_for_run(exp.cfg, exp.data).to(exp.hardware.device)
        self.beta = float(getattr(self.options, "beta", 0.0))  # Replay's options (a subclass) have no penalty

    def targets(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> Tensor:
        return self.labels.soft_labels(idx, y)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        loss = soft_cross_entropy(logits, self.targets(exp, x, y, idx))
        if self.beta:
            loss = loss + confidence_penalty(logits, self.beta)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def state_dict(self) -> dict[str, Any]:
        return {"labels": self.labels.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.labels.load_state_dict(state["labels"])
