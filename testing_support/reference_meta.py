"""The slow, obviously-correct meta-gradient (Meta-Weight-Net style double backward), for tests and the
benchmark only: p is a leaf, grad L_train(theta, p) is taken with create_graph=True, theta' is built from
it, L_meta is evaluated at theta' and differentiated back to p. Virtual passes use cloned buffers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call


def _cloned_buffers(model: nn.Module) -> dict[str, Tensor]:
    return {name: b.clone() for name, b in model.named_buffers()}


def reference_meta_gradients(
    model: nn.Module,
    x: Tensor,
    p: Tensor,
    x_meta: Tensor,
    y_meta: Tensor,
    *,
    lr: float,
    weight_decay: float = 0.0,
    sample_weight: Tensor | None = None,
    logits: Tensor | None = None,
    meta_cost_decay: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """(dL_meta/dp, dL_meta/dw) by double backward, p and w both leaves (w = ones when None). `logits`: an
    already computed train forward f(x; theta) to differentiate (as the training loop would reuse it); by default
    a forward with cloned buffers. `meta_cost_decay` c: L_meta + (c / 2) * sum ||theta'||^2 (L2RW's authors')."""
    names = [n for n, q in model.named_parameters() if q.requires_grad]
    params = [q for q in model.parameters() if q.requires_grad]
    p_leaf = p.detach().clone().requires_grad_()
    w = torch.ones(p.shape[0], dtype=p.dtype, device=p.device) if sample_weight is None else sample_weight
    w_leaf = w.detach().clone().requires_grad_()
    if logits is None:
        logits = functional_call(model, _cloned_buffers(model), (x,))
    per_sample = -(p_leaf * F.log_softmax(logits, dim=1)).sum(dim=1)
    train_loss = (per_sample * w_leaf).mean()
    grads = torch.autograd.grad(train_loss, params, create_graph=True)
    theta_new = {n: q - lr * (g + weight_decay * q) for n, q, g in zip(names, params, grads)}
    meta_logits = functional_call(model, {**theta_new, **_cloned_buffers(model)}, (x_meta,))
    meta_loss = F.cross_entropy(meta_logits, y_meta)
    if meta_cost_decay:
        meta_loss = meta_loss + 0.5 * meta_cost_decay * sum((t**2).sum() for t in theta_new.values())
    grad_p, grad_w = torch.autograd.grad(meta_loss, [p_leaf, w_leaf])
    return grad_p, grad_w


def reference_label_meta_gradient(
    model: nn.Module, x: Tensor, p: Tensor, x_meta: Tensor, y_meta: Tensor, **kwargs
) -> Tensor:
    """dL_meta(theta')/dp by double backward (keyword arguments as `reference_meta_gradients`)."""
    return reference_meta_gradients(model, x, p, x_meta, y_meta, **kwargs)[0]


def reference_sample_weight_meta_gradient(
    model: nn.Module, x: Tensor, p: Tensor, x_meta: Tensor, y_meta: Tensor, **kwargs
) -> Tensor:
    """dL_meta(theta')/dw by double backward (keyword arguments as `reference_meta_gradients`)."""
    return reference_meta_gradients(model, x, p, x_meta, y_meta, **kwargs)[1]
