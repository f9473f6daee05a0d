"""Losses of the paper and its baselines: soft cross-entropy (the training loss with learned labels),
label-smoothing targets (Szegedy et al.), the confidence penalty (Pereyra et al.) and the clipped log-probabilities
of the losses that weight a log-probability negatively (Patrini et al.'s backward correction, negative smoothing)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import UserError


def one_hot(y: Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Float one-hot rows (n, C) for integer labels y (n,); a label outside [0, C) is a UserError.

    The range check reads y on the host, so it runs for CPU labels only: on a GPU it would be two host syncs per
    training step (the baselines and the reweighting methods call this every step). There the labels come from a
    data set whose targets were checked when it was loaded, and F.one_hot itself asserts the range on the device."""
    if y.dim() != 1:
        raise UserError(f"Labels must be a 1-D tensor of class indices, got shape {tuple(y.shape)}.")
    if y.device.type == "cpu" and y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise UserError(
            f"Labels must lie in [0, {num_classes}) but range over [{int(y.min())}, {int(y.max())}]; "
            "check that the data set's number of classes matches the model's num_classes."
        )
    return F.one_hot(y, num_classes).to(dtype)


def soft_cross_entropy(logits: Tensor, p: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean over the batch of -sum_k p_k log softmax(logits)_k; with per-sample weights w it is
    mean_i(w_i * CE_i) (not divided by sum w), the form whose meta-gradient repro.meta computes."""
    if logits.dim() != 2 or logits.shape != p.shape:
        raise UserError(
            f"soft_cross_entropy needs logits and soft labels of the same (n, C) shape, "
            f"got {tuple(logits.shape)} and {tuple(p.shape)}."
        )
    per_sample = -(p * F.log_softmax(logits, dim=1)).sum(dim=1)
    if weight is not None:
        if weight.shape != per_sample.shape:
            raise UserError(f"Per-sample weights must have shape ({logits.shape[0]},), got {tuple(weight.shape)}.")
        per_sample = per_sample * weight
    return per_sample.mean()


def smoothed_targets(y: Tensor, num_classes: int, epsilon: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """Label smoothing in Szegedy et al.'s convention: (1 - eps) * one_hot + eps / C.

    The uniform part covers every class, the target included, so the target gets 1 - eps + eps/C and
    each other class eps/C. (The paper's class labels use another convention: 1 - alpha on the target and
    alpha / (C - 1) elsewhere; `smoothed_targets(y, C, eps)` equals that with alpha = eps * (C - 1) / C.)
    """
    if not 0.0 <= epsilon <= 1.0:
        raise UserError(f"Label smoothing epsilon must lie in [0, 1], got {epsilon}.")
    return (1.0 - epsilon) * one_hot(y, num_classes, dtype) + epsilon / num_classes


def confidence_penalty(logits: Tensor, beta: float) -> Tensor:
    """Pereyra et al.'s penalty, -beta * mean entropy of softmax(logits); add it to the cross-entropy so
    that confident (low-entropy) predictions cost more."""
    if beta < 0:
        raise UserError(f"The confidence penalty's beta must be >= 0, got {beta}.")
    log_q = F.log_softmax(logits, dim=1)
    entropy = -(log_q.exp() * log_q).sum(dim=1)
    return -beta * entropy.mean()


def clipped_log_softmax(logits: Tensor, clip: float | None) -> Tensor:
    """log softmax(logits), each entry clamped to [log c, log(1 - c)] for clip c (None: unclamped).

    The value is Patrini et al.'s Keras `log(clip(p, c, 1 - c))` (loss.py `robust('backward')`: p renormalised, a
    no-op on a softmax, then clipped, not renormalised again); clamping the log-probability instead of p gives the
    same numbers without the log of a rounded exp. The gradient is the log-softmax's inside the clip and zero outside,
    as Keras's (TensorFlow's clip_by_value passes the gradient inside the range, zero outside; torch.clamp does the
    same, the bounds themselves counting as inside). A loss that puts a negative weight on log p_j stops rewarding
    p_j -> 0 once p_j < c: it is bounded below, where the unclipped loss falls without end."""
    log_p = F.log_softmax(logits, dim=1)
    if clip is None:
        return log_p
    return log_p.clamp(min=math.log(clip), max=math.log1p(-clip))
