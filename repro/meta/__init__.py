"""The exact one-step look-ahead meta-gradients (the paper's Eq. 5) and the training loop's steps built on them:
the engine (lookahead.py: one forward-mode JVP gives dL_meta/dp of labels or dL_meta/dw of sample weights), the
passes it makes without touching the model (virtual.py) and the reweighting step of L2RW / Meta-Weight-Net
(weights.py); what a look-ahead takes (inputs.py: `LookAhead`, `MetaBatch`, `TrainForward`). The engine's public
functions are importable from here: `repro.meta.label_meta_gradient`."""

from __future__ import annotations

from repro.meta.inputs import Batch, LookAhead, MetaBatch, TrainForward
from repro.meta.lookahead import (
    label_gradient,
    label_meta_gradient,
    lookahead_directional,
    meta_label_step,
    sample_weight_meta_gradient,
    weight_gradient,
)

__all__ = [
    "Batch",
    "LookAhead",
    "MetaBatch",
    "TrainForward",
    "label_gradient",
    "label_meta_gradient",
    "lookahead_directional",
    "meta_label_step",
    "sample_weight_meta_gradient",
    "weight_gradient",
]
