"""The CIFAR ResNets of He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016, Sec. 4.2): the
networks of Lukasik et al.'s label-noise experiments (ResNet-32 and ResNet-56).

A 3x3 conv with 16 filters, then 3 stages of n basic blocks (two 3x3 convs each) with 16, 32, 64 filters on
32x32, 16x16, 8x8 maps (the first block of stages 2 and 3 strides by 2), global average pooling and a linear
layer: 6n + 2 weighted layers (n = 5: ResNet-32, n = 9: ResNet-56). Shortcuts are option A, as He et al. use on
CIFAR: the identity, and where the shape changes the input subsampled by 2 with the new channels zero-padded, so
shortcuts add no parameters (0.46M and 0.85M parameters with 10 classes, their Table 6).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from repro.models.init import init_conv_bn


class OptionABlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the option-A shortcut, then ReLU; out of place throughout (forward-mode AD
    and functional_call need a pure function)."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        self.pad = planes - in_planes

    def shortcut(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))  # zero channels on both sides
        return x

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet with `blocks` (n) basic blocks per stage: depth 6n + 2; its stages have `width`,
    2 x width and 4 x width channels (16, 32, 64: theirs)."""

    def __init__(self, blocks: int, *, num_classes: int, in_channels: int = 3, width: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, planes = [], width
        for stage_width, stride in ((width, 1), (2 * width, 2), (4 * width, 2)):
            for block in range(blocks):
                layers.append(OptionABlock(planes, stage_width, stride if block == 0 else 1))
                planes = stage_width
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(4 * width, num_classes)
        init_conv_bn(self)

    def forward(self, x: Tensor) -> Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def resnet32_cifar(*, num_classes: int, in_channels: int = 3, width: int = 16) -> CifarResNet:
    return CifarResNet(5, num_classes=num_classes, in_channels=in_channels, width=width)


def resnet56_cifar(*, num_classes: int, in_channels: int = 3, width: int = 16) -> CifarResNet:
    return CifarResNet(9, num_classes=num_classes, in_channels=in_channels, width=width)
