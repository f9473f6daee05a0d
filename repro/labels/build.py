"""Labels built by kind name: what a method does with its `method.labels` value and that kind's options.

Why this module: building needs the kind's class (repro/labels/kinds.py, torch); the package's public face
(repro/labels/__init__.py) re-exports `build_labels` without importing it until it is asked for."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels.base import LabelParametrisation
from repro.labels.registry import label_kind


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
