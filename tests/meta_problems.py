"""The small float64 problem the meta-gradient tests compare the engine and the double-backward reference on: a
BatchNorm convnet (running statistics moved off their defaults, so eval mode depends on them), a training batch with
soft labels and a meta batch. Shared by tests/meta/ and the reweighting methods' tests."""

from __future__ import annotations

import torch
from torch import nn

F64 = torch.float64
NUM_CLASSES = 5


def bn_cnn(activation: type[nn.Module] = nn.ReLU, dropout: float = 0.0) -> nn.Module:
    """A small float64 convnet with BatchNorm (train mode), max pooling and an optional dropout."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        activation(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        activation(),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(6 * 3 * 3, NUM_CLASSES),
    ).to(F64)
    # Move the running statistics away from their defaults, so that an eval-mode pass depends on them.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model


def meta_batches(n: int = 6, n_meta: int = 10):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, 6, 6, generator=gen, dtype=F64)
    y = torch.randint(0, NUM_CLASSES, (n,), generator=gen)
    p = torch.softmax(2 * torch.randn(n, NUM_CLASSES, generator=gen, dtype=F64), dim=1)
    x_meta = torch.randn(n_meta, 1, 6, 6, generator=gen, dtype=F64)
    y_meta = torch.randint(0, NUM_CLASSES, (n_meta,), generator=gen)
    return x, y, p, x_meta, y_meta


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()
