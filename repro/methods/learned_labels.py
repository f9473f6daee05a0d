"""The paper's method: class labels (Sec. 2.1) or instance labels (Sec. 2.2) learned by the one-step look-ahead
meta-gradient on the clean meta set (Algorithm 1), optionally with the noisy setting's entropy-weighted
curriculum (repro.methods.curriculum: its sign and placement are options).

The look-ahead follows Eq. 3, theta' = theta - lr * grad L_train, without weight decay
(`lookahead_weight_decay: false`); `true` adds the model optimizer's `wd * theta` to it, as the real step does (the
form before this option existed; the reweighting methods have the same key)."""

from __future__ import annotations

from typing import Any, Literal

from omegaconf import DictConfig
from torch import Tensor

from repro.labels.record_settings import RecordSettings
from repro.labels.recording import build_recorders
from repro.labels.registry import learned_kinds
from repro.losses import soft_cross_entropy
from repro.meta import Batch, meta_label_step
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.curriculum import curriculum_weights
from repro.methods.label_source import labels_for_run
from repro.schema import option, schema
from repro.training.step_cost import LABEL_LOOKAHEAD


class LearnedLabels(Method):
    step_cost = LABEL_LOOKAHEAD  # Algorithm 1: the look-ahead meta step, then the training step
    needs_meta_set = True

    @schema
    class Options:
        labels: str = option(choices=learned_kinds, why="the learned label kind: class | instance (its config sets it)")
        init_target_prob: float = option(gt=0, le=1, why="every label's target-class probability at the start")
        label_lr: float = option(gt=0, why="the labels' SGD learning rate (Eq. 5)")
        meta_batch_size: int = option(ge=1, why="clean meta samples per step (the paper: 256)")
        lookahead_weight_decay: bool = option(
            default=False, why="false: Eq. 3's plain SGD look-ahead; true: adds the optimizer's wd * theta"
        )
        curriculum: Literal["none", "entropy"] = option(
            default="none", why="the noisy setting's entropy-weighted curriculum (docs/method.md)"
        )
        curriculum_weight: Literal["certainty", "entropy"] = option(
            default="certainty", why="the curriculum's sign: 1 - H/log C (certainty) or H/log C (entropy)"
        )
        curriculum_placement: Literal["model_step", "both"] = option(
            default="model_step", why="weigh the real step only, or the meta step's look-ahead too"
        )
        record: RecordSettings = option(default_factory=RecordSettings, why="what the run writes under labels/")

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
