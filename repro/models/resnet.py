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


class WidthResNet(ResNet):
    """torchvision's ResNet with its stages' channels scaled by `width` / 64 (64: the library's 64, 128, 256, 512).
    At width 64 it builds and initialises exactly what the library's class does, in the same order (the same
    random draws)."""

    def __init__(self, block: Any, layers: list[int], *, num_classes: int, width: int) -> None:
        self.width = width  # read by _make_layer, which the library's __init__ calls
        super().__init__(block, layers, num_classes=num_classes)
        if width != 64:  # the library sized these for 64 channels
            self.bn1 = nn.BatchNorm2d(width)
            self.fc = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block: Any, planes: int, blocks: int, stride: int = 1, dilate: bool = False) -> nn.Sequential:
        if planes == 64:  # the first stage follows the stem, which has `width` channels
            self.inplanes = self.width
        return super()._make_layer(block, planes * self.width // 64, blocks, stride, dilate)


def resnet18_cifar(*, num_classes: int, in_channels: int = 3, width: int = 64) -> ResNet:
    """ResNet18 for 32x32 images: 3x3 stride-1 stem, no max-pool, BasicBlocks [2, 2, 2, 2], widths 64..512
    (`width` x 1, 2, 4, 8).

    torchvision builds (and kaiming-initialises) the network; the ImageNet stem (7x7 stride-2 conv + max-pool)
    is swapped for the CIFAR stem. Global average pooling (torchvision's) accepts any size >= 32.
    With 10 classes it has 11,173,962 parameters, the figure usually quoted for CIFAR ResNet18.
    """
    model = WidthResNet(PureBasicBlock, [2, 2, 2, 2], num_classes=num_classes, width=width)
    model.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.relu = nn.ReLU(inplace=False)
    model.maxpool = nn.Identity()
    return model
