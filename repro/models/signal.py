"""The 1-D networks of MNIST-1D (repro/data/mnist1d.py): signals stored as [N, C, 1, length], one pixel high, so
that every loader, evaluation and look-ahead pass handles them as the images they are stored as.

The MNIST-1D paper's baselines (Greydanus and Kobak, ICML 2024, Table 1): about 32% logistic regression, 68% MLP,
94% CNN on its default 4,000 training samples; docs/mnist1d.md compares these two networks with them."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.models.init import init_conv_bn


class SignalMLP(nn.Module):
    """Linear(C x length, 100)-ReLU, Linear(100, 100)-ReLU, Linear(100, classes): the MNIST-1D paper's MLP (two hidden
    layers of 100 units). It sees positions, not shapes, so it stays well below the CNN: the weak student of the
    MNIST-1D Tables 4-5."""

    def __init__(self, *, num_classes: int, in_channels: int = 1, length: int = 40, hidden: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * length, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def _conv_bn_relu(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(in_channels, out_channels, kernel_size=kernel, stride=2, padding=kernel // 2, bias=False),
        nn.BatchNorm1d(out_channels),
        nn.ReLU(),
    )


class SignalCNN(nn.Module):
    """conv32(k5, stride 2)-BN-ReLU, conv32(k3, stride 2)-BN-ReLU, conv32(k3, stride 2)-BN-ReLU, flatten, linear:
    three strided 1-D convolutions like the MNIST-1D paper's CNN (40 -> 20 -> 10 -> 5 positions), with BatchNorm
    so that the meta-gradients meet BatchNorm buffers as on every other network here. Flattened rather than
    pooled: where a feature sits in the signal is part of the digit."""

    def __init__(self, *, num_classes: int, in_channels: int = 1, length: int = 40, channels: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_bn_relu(in_channels, channels, 5),
            _conv_bn_relu(channels, channels, 3),
            _conv_bn_relu(channels, channels, 3),
            nn.Flatten(),
        )
        with torch.no_grad():
            width = self.features(torch.zeros(2, in_channels, length)).shape[1]
        self.classifier = nn.Linear(width, num_classes)
        init_conv_bn(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x.flatten(2)))
