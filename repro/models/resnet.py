"""ResNet18 in its usual CIFAR form, built from torchvision's ResNet so the layout and init are the library's."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, ResNet


class PureBasicBlock(BasicBlock):
    """torchvision's BasicBlock with an out-of-place forward (no `+=`, no in-place ReLU).

    Same parameters and state_dict keys as the library block; only the forward avoids in-place ops, so that
    forward-mode AD (torch.func.jvp), functional_call and torch.compile see a pure function.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def resnet18_cifar(*, num_classes: int, in_channels: int = 3) -> ResNet:
    """ResNet18 for 32x32 images: 3x3 stride-1 stem, no max-pool, BasicBlocks [2, 2, 2, 2], widths 64..512.

    torchvision builds (and kaiming-initialises) the network; the ImageNet stem (7x7 stride-2 conv + max-pool)
    is swapped for the CIFAR stem. Global average pooling (torchvision's) accepts any size >= 32.
    With 10 classes it has 11,173,962 parameters, the figure usually quoted for CIFAR ResNet18.
    """
    model = ResNet(PureBasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.relu = nn.ReLU(inplace=False)
    model.maxpool = nn.Identity()
    return model
