"""The paper's method: class labels (Sec. 2.1) or instance labels (Sec. 2.2) learned by the one-step look-ahead
meta-gradient on the clean meta set (Algorithm 1), optionally with the noisy setting's entropy-weighted
curriculum on the model step (repro.curriculum)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig
from torch import Tensor

from repro.curriculum import curriculum_weights
from repro.losses import soft_cross_entropy
from repro.meta import meta_label_step
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.label_source import labels_for_run


class LearnedLabels(Method):
    options = ("labels", "init_target_prob", "label_lr", "meta_batch_size", "curriculum", "record")
    needs_meta_set = True

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.labels = labels_for_run(exp.cfg, exp.data).to(exp.device)
        self.curriculum = str(cfg.get("curriculum", "none") or "none")

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        x_meta, y_meta = exp.next_meta_batch()
        logits, p = meta_label_step(
            exp.model, self.labels, x, y, idx, x_meta, y_meta, lr=exp.lr, weight_decay=exp.weight_decay,
            compile_jvp=exp.hardware.compile_jvp,
        )
        # The curriculum weights only the model step, from the updated labels; weighting the look-ahead too
        # froze label correction on digits (docs/method.md, "Entropy-weighted curriculum").
        weight = None if self.curriculum == "none" else curriculum_weights(self.curriculum, self.labels, idx)
        loss = soft_cross_entropy(logits, p, weight)
        optimizer_step(exp.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        from repro.recording import build_recorders

        return build_recorders(exp)

    def state_dict(self) -> dict[str, Any]:
        return {"labels": self.labels.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.labels.load_state_dict(state["labels"])
