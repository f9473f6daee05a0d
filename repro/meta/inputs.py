"""What a look-ahead takes, as three objects instead of a dozen loose arguments: how the look-ahead is taken
(`LookAhead`: its lr, weight decay, meta cost and compiled JVP, the same for every step of a run's method), the clean
meta batch it is scored on (`MetaBatch`, as the run's batches draw it: repro/training/batches.py) and the train
batch's forward it starts from (`TrainForward`: the input, its logits with their graph, the RNG state the forward
started from).

Every caller of the engine (the label step, the reweighting step, the public meta-gradient functions, L2RW and
Meta-Weight-Net) passes these, so a new setting of the look-ahead is one field here, not a new keyword threaded
through six signatures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from repro.errors import UserError
from repro.meta.virtual import RngState, forward, virtual_buffers
from repro.training.batches import Batch, MetaBatch

__all__ = ["Batch", "LookAhead", "MetaBatch", "TrainForward"]


@dataclass(frozen=True)
class LookAhead:
    """The one-step SGD look-ahead theta' = theta - lr * (grad L_train + weight_decay * theta) (the paper's Eq. 3:
    plain SGD, the optimizer's momentum is not part of it), scored by the meta cost L_meta + (meta_cost_decay / 2)
    ||theta'||^2 (L2RW's authors' form; 0: L_meta alone). `compile_jvp`: the JVP through torch.compile."""

    lr: float
    weight_decay: float = 0.0
    meta_cost_decay: float = 0.0
    compile_jvp: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise UserError(f"The look-ahead learning rate must be a finite number > 0, got lr={self.lr}.")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise UserError(f"The look-ahead weight decay must be a finite number >= 0, got {self.weight_decay}.")
        if not (math.isfinite(self.meta_cost_decay) and self.meta_cost_decay >= 0):
            raise UserError(f"The meta cost's weight decay must be a finite number >= 0, got {self.meta_cost_decay}.")


@dataclass(frozen=True)
class TrainForward:
    """The train batch's forward at the current parameters: its input `x`, its `logits` (graph attached), the RNG
    state it started from (the JVP replays it, so dropout masks agree) and whether the caller backwards through the
    logits after the look-ahead (`keep_graph`: the model step reuses the forward's graph)."""

    x: Tensor
    logits: Tensor
    rng: RngState
    keep_graph: bool

    @classmethod
    def real(cls, model: nn.Module, x: Tensor) -> TrainForward:
        """The real forward `model(x)`: the only pass of a step that updates BatchNorm running statistics; its graph
        is kept for the model step."""
        rng = RngState(x.device)
        return cls(x, model(x), rng, keep_graph=True)

    @classmethod
    def virtual(cls, model: nn.Module, x: Tensor) -> TrainForward:
        """A forward in the model's mode that leaves its buffers untouched, its graph not kept (nothing steps the
        model after): what the public meta-gradient functions start from."""
        rng = RngState(x.device)
        return cls(x, forward(model, {}, virtual_buffers(model), x), rng, keep_graph=False)
