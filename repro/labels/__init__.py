"""Label parametrisations: each turns a batch's given labels into soft labels p (n, C) and, when learned,
takes the meta-gradient dL_meta/dp of those rows, applies the chain rule to its own parameters and makes
a plain SGD step (the paper's Eq. 5; no momentum, no weight decay, no schedule).

Kinds: one-hot, fixed label smoothing (fixed.py), class labels (per-class alpha) and instance labels (per-sample
logits, sparse row updates) (learned.py), and replayed trajectories (fold-averaged labels of a finished run;
replay.py); the interface they share is base.py. Each kind's facts (options, recorders, trajectory format, fold
averaging, converged labels, W&B topics) live on one class registered by name (registry.py; the built-in ones in
kinds.py). This module is the package's public face: it re-exports them and builds labels by kind name.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels import kinds as _builtin_kinds  # noqa: F401  (registers onehot, smoothing, class, instance, replay)
from repro.labels.base import LabelParametrisation, NonFiniteLabelsError
from repro.labels.fixed import OneHotLabels, SmoothedLabels
from repro.labels.learned import ClassLabels, InstanceLabels
from repro.labels.registry import LABEL_KINDS, LabelKind, label_kind, register_label_kind
from repro.labels.replay import ReplayLabels

__all__ = [
    "LABEL_KINDS",
    "ClassLabels",
    "InstanceLabels",
    "LabelKind",
    "LabelParametrisation",
    "NonFiniteLabelsError",
    "OneHotLabels",
    "ReplayLabels",
    "SmoothedLabels",
    "build_labels",
    "label_kind",
    "register_label_kind",
]


def build_labels(
    kind: str,
    *,
    num_samples: int,
    num_classes: int,
    targets: Tensor,
    dtype: torch.dtype = torch.float32,
    **cfg: Any,
) -> LabelParametrisation:
    """Build a label parametrisation by kind name (repro/labels/registry.py); `cfg` holds exactly that kind's
    options."""
    kind_cls = label_kind(kind)
    allowed = kind_cls.options
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise UserError(
            f"Label kind {kind!r} does not take the option(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(allowed) or 'no options'}."
        )
    missing = [k for k in allowed if k not in cfg and k != "static"]
    if missing:
        raise UserError(f"Label kind {kind!r} needs the option(s): {', '.join(missing)}.")
    return kind_cls.build(num_samples=num_samples, num_classes=num_classes, targets=targets, dtype=dtype, **cfg)
