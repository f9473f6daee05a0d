"""Wide-ResNet-28-10 (Zagoruyko & Komodakis, 2016), the network of the paper's noisy-label experiments."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from repro.models.init import init_conv_bn


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3 plus a shortcut (1x1 conv when the shape changes).

    As in the authors' code, when the shape changes the shortcut conv reads the pre-activated input.
    Everything is out of place so forward-mode AD and functional_call see a pure function.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.dropout = dropout
        self.shortcut: nn.Module | None = None
        if stride != 1 or in_planes != out_planes:
            self.shortcut = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        activated = F.relu(self.bn1(x))
        out = self.conv1(activated)
        out = F.relu(self.bn2(out))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        out = self.conv2(out)
        identity = x if self.shortcut is None else self.shortcut(activated)
        return out + identity


class WideResNet(nn.Module):
    """WRN-depth-width: 3x3 conv (16 ch), three groups of (depth-4)/6 pre-activation blocks with
    16k, 32k, 64k channels (strides 1, 2, 2), BN-ReLU, global average pool, linear.

    WRN-28-10 with 10 classes has 36,479,194 parameters (the paper's "36.5M"). Dropout is 0 by default because
    the reproduced paper trains without dropout.
    """

    def __init__(
        self, *, depth: int = 28, widen_factor: int = 10, num_classes: int, in_channels: int = 3, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if (depth - 4) % 6 != 0:
            raise ValueError(f"Wide-ResNet depth must be 6n+4, got {depth}")
        blocks_per_group = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        groups: list[nn.Module] = []
        in_planes = widths[0]
        for out_planes, stride in zip(widths[1:], (1, 2, 2)):
            blocks = []
            for index in range(blocks_per_group):
                blocks.append(PreActBlock(in_planes, out_planes, stride if index == 0 else 1, dropout))
                in_planes = out_planes
            groups.append(nn.Sequential(*blocks))
        self.groups = nn.Sequential(*groups)
        self.bn = nn.BatchNorm2d(in_planes)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)
        init_conv_bn(self)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn(self.groups(self.conv1(x))))
        return self.fc(self.pool(out).flatten(1))
