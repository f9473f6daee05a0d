"""Meta-Weight-Net (Shu et al., "Meta-Weight-Net: Learning an Explicit Mapping For Sample Weighting", NeurIPS 2019;
code: github.com/xjtushujun/meta-weight-net): a small MLP V(loss; phi) maps each sample's training loss to its
weight, and phi is meta-learned on the clean meta set. Settings and sources: docs/methods/mwnet.md and
repro/conf/method/mwnet.yaml.

Per step: the real forward; w = V(CE.detach(); phi) (normalised to mean 1 when `normalize`, as their WRN-28-10
script normalises to sum 1); dL_meta/dw at these w from the shared engine (one JVP, no create_graph double backward);
the chain rule into phi, torch.autograd.backward(w, grad_tensors=dL_meta/dw), and the weighting net's optimizer step;
then w recomputed with the updated phi (no grad) and the model step on (1/n) sum_i w_i CE_i.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from repro.losses import one_hot, soft_cross_entropy
from repro.meta.inputs import LookAhead, MetaBatch
from repro.meta.weight_stats import WeightHistogramRecorder, WeightStats
from repro.meta.weights import meta_weight_step
from repro.methods.base import Method, StepOutput, check_finite, optimizer_step
from repro.methods.declarations.mwnet import MetaWeightNetDeclaration

CURVE_LOSSES = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)  # losses at which mwnet_curve records V each epoch


class WeightingNet(nn.Sequential):
    """V: per-sample loss (n, 1) -> weight in (0, 1): Linear(1, hidden), ReLU, Linear(hidden, 1), sigmoid (their
    VNet(1, 100, 1), PyTorch's default initialisation)."""

    def __init__(self, hidden: int = 100) -> None:
        super().__init__(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid())


def weighting_net_weights(vnet: nn.Module, loss: Tensor) -> Tensor:
    """V(loss) (n,) in the weighting net's own precision (float32), with autocast off: under bf16 autocast its linear
    layers would give bfloat16 weights and gradients, and the sample weights are to stay float32."""
    with torch.autocast(loss.device.type, enabled=False):
        return vnet(loss.unsqueeze(1)).squeeze(1)


def step_weights(v: Tensor, normalize: bool) -> Tensor:
    """The weights in the engine's mean form (1/n) sum_i w_i CE_i: v itself, or n * v / sum(v) (their sum-1
    normalisation times n; a zero sum leaves v as is, as in their code)."""
    if not normalize:
        return v
    total = v.sum()
    return v * (v.shape[0] / torch.where(total != 0, total, torch.ones_like(total)))


@dataclass(frozen=True)
class Weighting:
    """A batch's sample weights from its per-sample losses: the weighting net V's output, normalised to mean 1 when
    `normalize` (`step_weights`)."""

    net: nn.Module
    normalize: bool

    def __call__(self, loss: Tensor) -> Tensor:
        return step_weights(weighting_net_weights(self.net, loss), self.normalize)


def weighting_net_backward(
    model: nn.Module, weighting: Weighting, x: Tensor, p: Tensor, meta: MetaBatch, step: LookAhead
) -> tuple[Tensor, Tensor]:
    """The real forward, w = V(CE.detach()), dL_meta/dw from the engine, and its chain rule into phi: accumulates
    dL_meta/dphi into the weighting net's .grad. Returns (logits with their graph, per-sample CE detached)."""
    losses: list[Tensor] = []

    def weights(logits: Tensor) -> Tensor:
        loss = -(p * F.log_softmax(logits.detach(), dim=1)).sum(dim=1)
        losses.append(loss)
        return weighting(loss)

    logits, w, grad_w = meta_weight_step(model, x, p, meta, step, weights)
    torch.autograd.backward(w, grad_tensors=grad_w.to(w.dtype))
    return logits, losses[0]


class MetaWeightNet(Method, declaration=MetaWeightNetDeclaration):
    """Shu et al. 2019: the weighting net and its optimizer are the method's state (checkpointed)."""

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        o = self.options
        self.normalize = o.normalize
        self.lookahead_weight_decay = o.lookahead_weight_decay
        self.num_classes = exp.data.num_classes
        self.vnet = WeightingNet(o.hidden).to(exp.hardware.device)
        self.weighting = Weighting(self.vnet, self.normalize)
        if o.meta_optimizer == "adam":
            self.meta_optimizer: torch.optim.Optimizer = torch.optim.Adam(
                self.vnet.parameters(), lr=float(o.meta_lr), weight_decay=float(o.meta_weight_decay)
            )
        else:
            self.meta_optimizer = torch.optim.SGD(
                self.vnet.parameters(),
                lr=float(o.meta_lr),
                momentum=float(o.meta_momentum),
                nesterov=o.meta_nesterov,
                weight_decay=float(o.meta_weight_decay),
            )
        self.stats = WeightStats(exp.data.noisy_mask, 4.0 if self.normalize else 1.0)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        p = one_hot(y, self.num_classes, dtype=x.dtype)
        step = self.lookahead(exp, weight_decay=self.lookahead_weight_decay)
        self.meta_optimizer.zero_grad(set_to_none=True)
        logits, loss_i = weighting_net_backward(exp.model, self.weighting, x, p, exp.batches.next_meta(), step)
        self.meta_optimizer.step()
        check_finite(
            torch.cat([q.detach().flatten() for q in self.vnet.parameters()]),
            "Meta-Weight-Net weighting net's parameters",
        )
        with torch.no_grad():
            w = self.weighting(loss_i)
        check_finite(w, "Meta-Weight-Net sample weights")
        loss = soft_cross_entropy(logits, p, w)  # not w.to(logits.dtype): bf16 logits under autocast
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        self.stats.add(idx, w)
        return StepOutput(loss.detach(), logits.detach())

    def end_epoch(self, exp) -> dict[str, Any]:
        row = self.stats.epoch_row()
        param = next(self.vnet.parameters())
        with torch.no_grad():
            curve = self.vnet(torch.tensor(CURVE_LOSSES, dtype=param.dtype, device=param.device).unsqueeze(1))
        row.update(mwnet_curve=curve.squeeze(1).cpu().tolist(), mwnet_curve_losses=list(CURVE_LOSSES))
        return row

    def recorders(self, exp) -> list:
        return [WeightHistogramRecorder(self.stats)]

    def state_dict(self) -> dict[str, Any]:
        return {"vnet": self.vnet.state_dict(), "meta_optimizer": self.meta_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.vnet.load_state_dict(state["vnet"])
        self.meta_optimizer.load_state_dict(state["meta_optimizer"])
