"""The exact one-step look-ahead meta-gradients of soft labels and sample weights, by one forward-mode JVP.

With theta' = theta - lr * (grad L_train(theta, p) + wd * theta), L_train = mean_i w_i * CE(f(x_i), p_i)
and L_meta = CE(f(x_meta; theta'), y_meta), L_train is linear in p, so

    dL_meta(theta') / dp_ik = (lr * w_i / n) * < grad_theta log_softmax(f(x_i; theta))_k , g_meta >,
    g_meta = grad L_meta(theta'),

i.e. one JVP J of the train batch's log-probabilities in the direction g_meta, instead of the double
backward through a create_graph gradient that Meta-Weight-Net style code uses (testing_support/reference_meta.py).
L_train is linear in the weights w as well, so the same J gives dL_meta/dw_i = (lr / n) * sum_k p_ik J_ik:
the reweighting methods (L2RW, Meta-Weight-Net) use this engine too (`sample_weight_meta_gradient`).

`meta_cost_decay` c adds an L2 term to the meta cost, L_meta + (c / 2) ||theta'||^2, so g_meta becomes
grad L_meta(theta') + c * theta' (L2RW's authors' meta cost, docs/methods/l2rw.md); 0 by default.

The passes that must leave the model untouched (the look-ahead gradient, the meta batch, the JVP) are in
repro.meta.virtual. The look-ahead is plain SGD (the paper's Eq. 3): the optimizer's momentum is not part of theta'.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.errors import UserError
from repro.labels import LabelParametrisation
from repro.meta.inputs import Batch, LookAhead, MetaBatch, TrainForward
from repro.meta.virtual import Params, forward, log_prob_jvp, trainable_parameters, virtual_buffers


def _check_inputs(logits: Tensor, p: Tensor, sample_weight: Tensor | None) -> None:
    if p.shape != logits.shape:
        raise UserError(
            f"The soft labels have shape {tuple(p.shape)} but the model returns logits of shape "
            f"{tuple(logits.shape)}; the label parametrisation and the model disagree on the classes."
        )
    if sample_weight is not None and sample_weight.shape != (logits.shape[0],):
        raise UserError(f"Per-sample weights must have shape ({logits.shape[0]},), got {tuple(sample_weight.shape)}.")


def _row_weights(n: int, sample_weight: Tensor | None, like: Tensor) -> Tensor | float:
    """w_i / n, each row's weight in L_train, as a column (or a plain float without weights)."""
    if sample_weight is None:
        return 1.0 / n
    return sample_weight.detach().to(like).unsqueeze(1) / n


def _grads_or_zeros(grads: tuple[Tensor | None, ...], like: list[Tensor]) -> list[Tensor]:
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, like)]


def _lookahead(params: Params, grads: list[Tensor], step: LookAhead) -> list[Tensor]:
    """theta' = theta - lr * (g + wd * theta), as new tensors (no graph)."""
    with torch.no_grad():
        theta = [p.detach() for p in params.values()]
        new = torch._foreach_add(theta, grads, alpha=-step.lr)
        if step.weight_decay:
            torch._foreach_add_(new, theta, alpha=-step.lr * step.weight_decay)
    return new


def _meta_batch_gradient(
    model: nn.Module, names: list[str], theta_new: list[Tensor], meta: MetaBatch, meta_cost_decay: float
) -> list[Tensor]:
    """g_meta = grad of the meta batch's mean cross-entropy at theta' (+ meta_cost_decay * theta')."""
    leaves = [t.requires_grad_() for t in theta_new]
    meta_logits = forward(model, dict(zip(names, leaves)), virtual_buffers(model), meta.x)
    loss = F.cross_entropy(meta_logits, meta.y)
    grads = _grads_or_zeros(torch.autograd.grad(loss, leaves, allow_unused=True), leaves)
    if meta_cost_decay:
        torch._foreach_add_(grads, [t.detach() for t in leaves], alpha=meta_cost_decay)
    return grads


def lookahead_directional(
    model: nn.Module,
    train: TrainForward,
    p: Tensor,
    meta: MetaBatch,
    step: LookAhead,
    sample_weight: Tensor | None = None,
) -> Tensor:
    """J (n, C): the JVP of the train batch's log-probabilities along g_meta = grad L_meta(theta') (plus
    meta_cost_decay * theta'), the one quantity both meta-gradients are read from (`label_gradient`,
    `weight_gradient`). `train` is the forward at the current parameters (repro/meta/inputs.py), `p` the batch's
    soft labels and `sample_weight` its per-sample weights w in L_train (None: all 1)."""
    _check_inputs(train.logits, p, sample_weight)
    params = trainable_parameters(model)
    if not params:
        raise UserError("The model has no trainable parameters, so the labels have no meta-gradient.")
    names = list(params)
    row_weights = _row_weights(train.logits.shape[0], sample_weight, train.logits)
    # grad L_train(theta, p): a backward of log_softmax(logits) with output gradient -(w_i / n) p_i.
    log_probs = F.log_softmax(train.logits, dim=1)
    output_grad = p.detach().to(log_probs) * (-row_weights)
    train_grads = torch.autograd.grad(
        log_probs, list(params.values()), output_grad, retain_graph=train.keep_graph, allow_unused=True
    )
    theta_new = _lookahead(params, _grads_or_zeros(train_grads, list(params.values())), step)
    del train_grads
    g_meta = _meta_batch_gradient(model, names, theta_new, meta, step.meta_cost_decay)
    del theta_new
    with train.rng.replayed():
        return log_prob_jvp(model, params, train.x, g_meta, compile=step.compile_jvp)


def label_gradient(directional: Tensor, *, lr: float, sample_weight: Tensor | None) -> Tensor:
    """dL_meta/dp_ik = (lr * w_i / n) * J_ik (L_train is linear in p). Consumes `directional`."""
    return directional.mul_(lr * _row_weights(directional.shape[0], sample_weight, directional))


def weight_gradient(directional: Tensor, p: Tensor, *, lr: float) -> Tensor:
    """dL_meta/dw_i = (lr / n) * sum_k p_ik * J_ik (L_train is linear in w too)."""
    return (p.detach().to(directional) * directional).sum(dim=1).mul_(lr / directional.shape[0])


def label_meta_gradient(
    model: nn.Module,
    x: Tensor,
    p: Tensor,
    x_meta: Tensor,
    y_meta: Tensor,
    *,
    lr: float,
    weight_decay: float = 0.0,
    sample_weight: Tensor | None = None,
    compile_jvp: bool = False,
) -> Tensor:
    """dL_meta(theta')/dp (n, C) for the one-step SGD look-ahead theta' = theta - lr * (grad L_train(theta, p)
    + weight_decay * theta); L_train = mean_i w_i * soft CE (w = 1 without sample_weight), L_meta = mean CE
    on the meta batch. Leaves the model's parameters, their .grad, and its buffers unchanged."""
    step = LookAhead(lr, weight_decay, compile_jvp=compile_jvp)
    directional = lookahead_directional(
        model, TrainForward.virtual(model, x), p, MetaBatch(x_meta, y_meta), step, sample_weight
    )
    return label_gradient(directional, lr=lr, sample_weight=sample_weight)


def sample_weight_meta_gradient(
    model: nn.Module,
    x: Tensor,
    p: Tensor,
    x_meta: Tensor,
    y_meta: Tensor,
    *,
    lr: float,
    weight_decay: float = 0.0,
    sample_weight: Tensor | None = None,
    compile_jvp: bool = False,
    meta_cost_decay: float = 0.0,
) -> Tensor:
    """dL_meta(theta')/dw (n,) at the given per-sample weights w (ones when None), for L_train = (1/n) sum_i
    w_i CE(f(x_i), p_i) and theta' = theta - lr * (grad L_train + weight_decay * theta): what L2RW and
    Meta-Weight-Net need, from the same single JVP as the label meta-gradient. Leaves the model unchanged.
    `meta_cost_decay` c: the meta cost is L_meta + (c / 2) ||theta'||^2 (L2RW's authors' form)."""
    step = LookAhead(lr, weight_decay, meta_cost_decay, compile_jvp)
    directional = lookahead_directional(
        model, TrainForward.virtual(model, x), p, MetaBatch(x_meta, y_meta), step, sample_weight
    )
    return weight_gradient(directional, p, lr=lr)


def meta_label_step(
    model: nn.Module,
    labels: LabelParametrisation,
    batch: Batch,
    meta: MetaBatch,
    step: LookAhead,
    sample_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One meta step of Algorithm 1 (lines 5-7): the real train forward (the only pass that updates
    BatchNorm running statistics), the label meta-gradient, the labels' own update.

    Returns the forward's logits (graph kept) and the updated labels p_new; the caller finishes the step
    (Eq. 6) with `soft_cross_entropy(logits, p_new, sample_weight).backward()` and its optimizer step, a
    second backward of the same graph. `step.lr` and `step.weight_decay` are the model optimizer's current values.
    Non-learnable labels skip the meta-gradient and return their fixed p."""
    p = labels.soft_labels(batch.idx, batch.y)
    train = TrainForward.real(model, batch.x)
    if not labels.learnable:
        return train.logits, p.to(train.logits.device)
    directional = lookahead_directional(model, train, p, meta, step, sample_weight)
    grad_p = label_gradient(directional, lr=step.lr, sample_weight=sample_weight)
    labels.apply_meta_gradient(batch.idx, batch.y, grad_p)
    return train.logits, labels.soft_labels(batch.idx, batch.y).to(train.logits.device)
