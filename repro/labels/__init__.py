"""Label parametrisations: each turns a batch's given labels into soft labels p (n, C) and, when learned,
takes the meta-gradient dL_meta/dp of those rows, applies the chain rule to its own parameters and makes
a plain SGD step (the paper's Eq. 5; no momentum, no weight decay, no schedule).

Kinds: one-hot, fixed label smoothing (fixed.py), class labels (per-class alpha) and instance labels (per-sample
logits, sparse row updates) (learned.py), and replayed trajectories (fold-averaged labels of a finished run;
replay.py); the interface they share is base.py. This module is the package's public face: it re-exports the kinds
and builds one by name.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels.base import LabelParametrisation, NonFiniteLabelsError
from repro.labels.fixed import OneHotLabels, SmoothedLabels
from repro.labels.learned import ClassLabels, InstanceLabels
from repro.labels.replay import ReplayLabels

__all__ = ["LABEL_KINDS", "ClassLabels", "InstanceLabels", "LabelParametrisation", "NonFiniteLabelsError",
           "OneHotLabels", "ReplayLabels", "SmoothedLabels", "build_labels"]

LABEL_KINDS = ("onehot", "smoothing", "class", "instance", "replay")

_KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "onehot": (),
    "smoothing": ("epsilon",),
    "class": ("init_target_prob", "lr"),
    "instance": ("init_target_prob", "lr"),
    "replay": ("trajectory", "num_epochs", "static"),
}


def build_labels(
    kind: str,
    *,
    num_samples: int,
    num_classes: int,
    targets: Tensor,
    dtype: torch.dtype = torch.float32,
    **cfg: Any,
) -> LabelParametrisation:
    """Build a label parametrisation by name; `cfg` holds exactly that kind's options."""
    if kind not in _KIND_OPTIONS:
        raise UserError(f"Unknown label kind {kind!r}; choose one of: {', '.join(LABEL_KINDS)}.")
    allowed = _KIND_OPTIONS[kind]
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise UserError(
            f"Label kind {kind!r} does not take the option(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(allowed) or 'no options'}."
        )
    missing = [k for k in allowed if k not in cfg and k != "static"]
    if missing:
        raise UserError(f"Label kind {kind!r} needs the option(s): {', '.join(missing)}.")
    if kind == "onehot":
        return OneHotLabels(num_classes, dtype=dtype)
    if kind == "smoothing":
        return SmoothedLabels(num_classes, cfg["epsilon"], dtype=dtype)
    if kind == "class":
        return ClassLabels(num_classes, cfg["init_target_prob"], cfg["lr"], dtype=dtype)
    if kind == "instance":
        return InstanceLabels(num_samples, num_classes, targets, cfg["init_target_prob"], cfg["lr"], dtype=dtype)
    return ReplayLabels(cfg["trajectory"], cfg["num_epochs"], static=cfg.get("static", False), dtype=dtype)
