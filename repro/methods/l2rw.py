"""Learning to Reweight Examples (Ren et al., "Learning to Reweight Examples for Robust Deep Learning", ICML 2018):
each batch's sample weights are the clipped, normalised negative meta-gradient of the clean meta loss with respect to
per-sample loss weights probed at zero. Settings and sources: docs/methods/l2rw.md, repro/conf/method/l2rw.yaml.

Per batch (their Algorithm 1): eps = 0, g_i = dL_meta(theta'(eps))/deps_i at eps = 0, w_i = max(-g_i, 0),
w = w / sum(w) (all zero stays all zero), then one model step on sum_i w_i CE_i. g comes from the shared engine
(repro.meta.weights.meta_weight_step: one forward-mode JVP) instead of their double backward. The engine's L_train is
the mean (1/n) sum_i eps_i CE_i, so its g is theirs (sum form, look-ahead step lr) times lr/n: a positive factor that
the normalisation removes. The model step sum_i w_i CE_i is the engine's mean form (1/n) sum_i (n w_i) CE_i; the
weights are recorded in that form (n w_i, mean 1 within a batch with any positive weight).

Their meta cost carries the L2 weight-decay term (models/cnn/cnn_model.py: cost = xent + decay), so their g follows
<grad CE_i, grad L_meta + wd * W>: `meta_cost_weight_decay: true` (the default) adds the model optimizer's weight
decay to the meta cost the same way; `false` uses grad L_meta alone (identical at weight decay 0).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from repro.losses import one_hot
from repro.meta.inputs import LookAhead, MetaBatch
from repro.meta.weight_stats import WeightHistogramRecorder, WeightStats
from repro.meta.weights import meta_weight_step
from repro.methods.base import Method, StepOutput, check_finite, optimizer_step
from repro.methods.declarations.l2rw import L2RWDeclaration

HIST_MAX = 4.0  # weight_hist_* bins: 10 over [0, 4] in the mean form (a batch's mean weight is 1)


def l2rw_weights(grad_w: Tensor) -> Tensor:
    """Ren et al.'s rule on the meta-gradient g (n,): w_i = max(-g_i, 0) / sum_j max(-g_j, 0); when no sample has
    a negative g the weights stay all zero (their code divides by 1 then), so the step only applies decay/momentum."""
    w = (-grad_w).clamp_min(0.0)
    total = w.sum()
    return w / torch.where(total > 0, total, torch.ones_like(total))


def l2rw_step(
    model: nn.Module, x: Tensor, y: Tensor, meta: MetaBatch, step: LookAhead, num_classes: int
) -> tuple[Tensor, Tensor]:
    """The real forward and the batch's L2RW weights (sum 1, or all zero): returns (logits with graph, weights).
    `step.meta_cost_decay` c: the meta cost is L_meta + (c / 2) ||theta'||^2 (their form with c = their weight
    decay)."""
    p = one_hot(y, num_classes, dtype=x.dtype)
    zeros = torch.zeros(y.shape[0], dtype=x.dtype, device=x.device)
    logits, _, grad_w = meta_weight_step(model, x, p, meta, step, zeros)
    return logits, l2rw_weights(grad_w)


class L2RW(Method, declaration=L2RWDeclaration):
    """Ren et al. 2018: per-batch weights from the look-ahead meta-gradient at zero weights, no learned state."""

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.lookahead_weight_decay = self.options.lookahead_weight_decay
        self.meta_cost_weight_decay = self.options.meta_cost_weight_decay
        self.num_classes = exp.data.num_classes
        self.stats = WeightStats(exp.data.noisy_mask, HIST_MAX)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        step = self.lookahead(
            exp, weight_decay=self.lookahead_weight_decay, meta_cost_decay=self.meta_cost_weight_decay
        )
        logits, w = l2rw_step(exp.model, x, y, exp.batches.next_meta(), step, self.num_classes)
        check_finite(w, "L2RW sample weights")
        # sum_i w_i CE_i (their weighted loss); in the engine's mean form the weights are n * w_i.
        per_sample = F.cross_entropy(logits, y, reduction="none")  # float32 under bf16 autocast
        loss = (w.to(per_sample.dtype) * per_sample).sum()  # not w.to(logits.dtype): bf16 logits under autocast
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        self.stats.add(idx, w * y.shape[0])
        return StepOutput(loss.detach(), logits.detach())

    def end_epoch(self, exp) -> dict[str, Any]:
        return self.stats.epoch_row()

    def recorders(self, exp) -> list:
        return [WeightHistogramRecorder(self.stats)]

    def state_dict(self) -> dict[str, Any]:
        # Nothing learned survives a step; the epoch's weight statistics are emptied before each checkpoint.
        return {}
