"""Floating-point operations of one forward pass, per model and input shape: what a step-cost estimate scales by
where a calibration has no figure of its own for a model (repro/sweep/budget/costs.py). Counted once per shape with
PyTorch's FlopCounterMode (matmuls and convolutions, which dominate every network of the registry) on the meta
device: the counts depend on shapes alone, so nothing is initialised or computed (counting WRN-28-10 took 2.3 CPU-s
on the CPU, 0.3 on the meta device)."""

from __future__ import annotations

from functools import cache
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from repro.models import build_model, input_shape


@cache
def forward_flops(
    model_name: str, channels: int, size: int, classes: int, keys: tuple[tuple[str, Any], ...] = ()
) -> float:
    """FLOPs of one input's forward through a freshly built `model_name` (eval mode, batch 1): a `size`x`size` image,
    or a signal `size` long for a 1-D network (repro.models.input_shape). `keys`: the network's own keys (its width,
    repro/conf/networks.py) as (name, value) pairs; those left out take their defaults."""
    counter = FlopCounterMode(display=False)
    with torch.device("meta"):
        model = build_model(model_name, num_classes=classes, in_channels=channels, image_size=size, **dict(keys))
        with torch.no_grad(), counter:
            model.eval()(torch.zeros(1, *input_shape(model_name, channels, size)))
    return float(counter.get_total_flops())
