"""Every registered network under `deterministic=true` on CUDA (marked `gpu`: skips, saying so, without CUDA).

torch's deterministic mode raises at the first op that has no deterministic CUDA kernel, so a network whose forward,
backward or forward-mode JVP uses one would stop a bit-identical run at its first step. The training loop's tests run
the small digits network; this runs each network of the registry (the paper's CIFAR networks and the 1-D ones) through
the learned labels' look-ahead, the step that uses the most kinds of kernels: a train forward and backward, the meta
forward and backward and a JVP, with the run's own model preparation (channels_last, the deterministic pools).
"""

from __future__ import annotations

import pytest
import torch

from repro.meta import label_meta_gradient
from repro.models import MIN_IMAGE_SIZE, MODEL_NAMES, build_model, input_shape
from repro.training.hardware import Hardware

CLASSES = 100  # CIFAR-100's head, the largest the paper trains
BATCH = 8


@pytest.mark.gpu
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_cuda_deterministic_mode_runs_every_networks_look_ahead(name, restore_torch_flags):
    hw = Hardware(torch.device("cuda"), channels_last=True, deterministic=True)
    hw.apply()
    size = max(MIN_IMAGE_SIZE[name], 32)
    shape = input_shape(name, 3, size)
    torch.manual_seed(0)
    model = hw.prepare_model(build_model(name, num_classes=CLASSES, in_channels=3, image_size=size))
    x = hw.prepare_batch(torch.randn(BATCH, *shape))
    x_meta = hw.prepare_batch(torch.randn(2 * BATCH, *shape))
    y_meta = torch.randint(0, CLASSES, (2 * BATCH,), device=hw.device)
    p = torch.softmax(torch.randn(BATCH, CLASSES, device=hw.device), 1)
    grad = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4)
    assert grad.shape == (BATCH, CLASSES) and bool(torch.isfinite(grad).all())
    assert bool(grad.abs().sum() > 0), "the meta-gradient is all zeros: the look-ahead did not reach the labels"
