"""The paper's method: class labels (Sec. 2.1) or instance labels (Sec. 2.2) learned by the one-step look-ahead
meta-gradient on the clean meta set (Algorithm 1), optionally with the noisy setting's entropy-weighted
curriculum (repro.methods.curriculum: its sign and placement are options).

The look-ahead follows Eq. 3, theta' = theta - lr * grad L_train, without weight decay
(`lookahead_weight_decay: false`); `true` adds the model optimizer's `wd * theta` to it, as the real step does (the
form before this option existed; the reweighting methods have the same key)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig
from torch import Tensor

from repro.labels.recording import build_recorders
from repro.losses import soft_cross_entropy
from repro.meta import Batch, meta_label_step
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.curriculum import curriculum_weights
from repro.methods.declarations.learned_labels import LearnedLabelsDeclaration
from repro.methods.label_source import labels_for_run


class LearnedLabels(Method, declaration=LearnedLabelsDeclaration):
    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.labels = labels_for_run(exp.cfg, exp.data).to(exp.hardware.device)
        o = self.options
        self.curriculum = o.curriculum
        self.curriculum_sign = o.curriculum_weight
        self.weight_lookahead = self.curriculum != "none" and o.curriculum_placement == "both"
        self.lookahead_weight_decay = o.lookahead_weight_decay

    def _weights(self, idx: Tensor) -> Tensor | None:
        if self.curriculum == "none":
            return None
        return curriculum_weights(self.curriculum, self.labels, idx, self.curriculum_sign)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        step = self.lookahead(exp, weight_decay=self.lookahead_weight_decay)
        # placement=both: the look-ahead is Algorithm 1 with the weighted loss, weights from the labels before the
        # meta step; model_step: the unweighted look-ahead (docs/method.md, "Entropy-weighted curriculum").
        weights = self._weights(idx) if self.weight_lookahead else None
        batch, meta = Batch(x, y, idx), exp.batches.next_meta()
        logits, p = meta_label_step(exp.model, self.labels, batch, meta, step, sample_weight=weights)
        # The model step is weighted from the labels the meta step just updated.
        loss = soft_cross_entropy(logits, p, self._weights(idx))
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        return build_recorders(exp)

    def state_dict(self) -> dict[str, Any]:
        return {"labels": self.labels.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.labels.load_state_dict(state["labels"])
