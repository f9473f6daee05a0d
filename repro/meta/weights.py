"""The training loop's reweighting step on the shared engine (repro.meta): one real forward, one look-ahead JVP,
dL_meta/dw at the batch's weights. L2RW (weights probed at zero) and Meta-Weight-Net (weights from the weighting
net, chain rule into its parameters) are built on it; neither needs a create_graph double backward.

L_train in the engine is the mean form (1/n) sum_i w_i CE(f(x_i), p_i), so the returned gradient is
dL_meta/dw_i = (lr / n) * sum_k p_ik J_ik with J the JVP of the batch's log-probabilities along g_meta
(repro/meta/lookahead.py). A method whose loss is written as sum_i w_i CE_i gets the same gradient times n.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from repro.meta.inputs import LookAhead, MetaBatch, TrainForward
from repro.meta.lookahead import lookahead_directional, weight_gradient

Weights = Tensor | Callable[[Tensor], Tensor]


def meta_weight_step(
    model: nn.Module, x: Tensor, p: Tensor, meta: MetaBatch, step: LookAhead, weights: Weights
) -> tuple[Tensor, Tensor, Tensor]:
    """Run the real train forward `model(x)` (the only pass that updates BatchNorm running statistics), take the
    weights w (a tensor (n,), or a function of the forward's logits, e.g. a weighting net of the per-sample loss),
    and return (logits with their graph kept, w as given (its graph too), dL_meta/dw (n,) at w).

    `step` is the look-ahead (repro/meta/inputs.py), with `step.lr` the model optimizer's current learning rate. The
    caller finishes the step with a backward of `logits` (a second backward of the same graph) and its optimizer
    step; the JVP replays the forward's RNG state (dropout masks agree)."""
    train = TrainForward.real(model, x)
    w = weights(train.logits) if callable(weights) else weights
    directional = lookahead_directional(model, train, p, meta, step, w)
    return train.logits, w, weight_gradient(directional, p, lr=step.lr)
