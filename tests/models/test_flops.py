"""Forward FLOPs are counted on the meta device: the same count as a real forward on the CPU, with no weights
initialised and no convolution computed (counting WRN-28-10 took 2.3 CPU-s on the CPU, 0.3 on the meta device)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from repro.models import build_model, flops, input_shape


def test_the_count_is_a_real_forwards_and_is_made_on_the_meta_device(monkeypatch):
    devices = []
    built = flops.build_model

    def recording(*args, **kwargs):
        devices.append(torch.empty(0).device.type)
        return built(*args, **kwargs)

    monkeypatch.setattr(flops, "build_model", recording)
    flops.forward_flops.cache_clear()
    got = flops.forward_flops("tinycnn", 1, 8, 10)
    assert devices == ["meta"]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        build_model("tinycnn", num_classes=10, in_channels=1, image_size=8).eval()(
            torch.zeros(1, *input_shape("tinycnn", 1, 8))
        )
    assert got == counter.get_total_flops() > 0
