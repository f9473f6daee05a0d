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

from repro.losses import soft_cross_entropy
from repro.meta import meta_label_step
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.curriculum import curriculum_weights
from repro.methods.label_source import labels_for_run
from repro.methods.step_cost import LABEL_LOOKAHEAD
from repro.validation import COUNT, NON_NEGATIVE_INT, POSITIVE, Bool, Choice, Finite, Real, SnapshotEpochs


class LearnedLabels(Method):
    step_cost = LABEL_LOOKAHEAD  # Algorithm 1: the look-ahead meta step, then the training step
    options = (
        "labels",
        "init_target_prob",
        "label_lr",
        "meta_batch_size",
        "lookahead_weight_decay",
        "curriculum",
        "curriculum_weight",
        "curriculum_placement",
        "record",
    )
    rules = {
        "labels": Finite(),  # class | instance (the method group sets it)
        "init_target_prob": Real(0, 1, low_open=True),
        "label_lr": POSITIVE,
        "meta_batch_size": COUNT,
        "lookahead_weight_decay": Bool(),  # Eq. 3's plain look-ahead, or with the optimizer's wd
        "curriculum": Choice(("none", "entropy")),
        "curriculum_weight": Choice(("certainty", "entropy")),  # the curriculum's sign (curriculum.py)
        "curriculum_placement": Choice(("model_step", "both")),  # model step only, or the look-ahead too
        "record.snapshot_epochs": SnapshotEpochs(),
        "record.topk": COUNT,
        "record.*": NON_NEGATIVE_INT,
    }
    needs_meta_set = True

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.labels = labels_for_run(exp.cfg, exp.data).to(exp.device)
        self.curriculum = str(cfg.get("curriculum", "none") or "none")
        self.curriculum_sign = str(cfg.get("curriculum_weight", "certainty"))
        self.weight_lookahead = (
            self.curriculum != "none" and str(cfg.get("curriculum_placement", "model_step")) == "both"
        )
        self.lookahead_weight_decay = bool(cfg.get("lookahead_weight_decay", False))

    def _weights(self, idx: Tensor) -> Tensor | None:
        if self.curriculum == "none":
            return None
        return curriculum_weights(self.curriculum, self.labels, idx, self.curriculum_sign)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        x_meta, y_meta = exp.next_meta_batch()
        # placement=both: the look-ahead is Algorithm 1 with the weighted loss, weights from the labels before the
        # meta step; model_step: the unweighted look-ahead (docs/method.md, "Entropy-weighted curriculum").
        logits, p = meta_label_step(
            exp.model,
            self.labels,
            x,
            y,
            idx,
            x_meta,
            y_meta,
            lr=exp.lookahead_lr,
            weight_decay=exp.weight_decay if self.lookahead_weight_decay else 0.0,
            sample_weight=self._weights(idx) if self.weight_lookahead else None,
            compile_jvp=exp.hardware.compile_jvp,
        )
        # The model step is weighted from the labels the meta step just updated.
        loss = soft_cross_entropy(logits, p, self._weights(idx))
        optimizer_step(exp.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        from repro.labels.recording import build_recorders

        return build_recorders(exp)

    def state_dict(self) -> dict[str, Any]:
        return {"labels": self.labels.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.labels.load_state_dict(state["labels"])
