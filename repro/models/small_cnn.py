"""The small BatchNorm convnet used on the embedded scikit-learn digits (1x8x8): fast on a laptop CPU."""

from __future__ import annotations

from torch import Tensor, nn

from repro.models.init import init_conv_bn


def _conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=False),
    )


class SmallCNN(nn.Module):
    """conv32-BN-ReLU, maxpool 2x2, conv64-BN-ReLU, maxpool 2x2, conv128-BN-ReLU, global average pool, linear (at
    `width` 32: the convs have width, 2 x width and 4 x width channels).

    BatchNorm is there on purpose: the meta-gradient code must cope with BatchNorm buffers, and the digits default
    should exercise the same code path as the CIFAR networks. Pooling after each of the first two convs (8x8 ->
    4x4 -> 2x2 on digits) made a 128-image training step about 2x cheaper on one CPU thread than pooling only
    once, at the same parameter count and digits accuracy (about 99% after 20 plain-SGD epochs). Global average
    pooling makes it work for any image size >= 4 (the model zoo asks for >= 8) and any number of input channels.
    """

    def __init__(self, *, num_classes: int, in_channels: int = 1, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_bn_relu(in_channels, width),
            nn.MaxPool2d(kernel_size=2),
            _conv_bn_relu(width, 2 * width),
            nn.MaxPool2d(kernel_size=2),
            _conv_bn_relu(2 * width, 4 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(4 * width, num_classes)
        init_conv_bn(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class TinyCNN(nn.Module):
    """conv16-BN-ReLU, maxpool 2x2, conv32-BN-ReLU, global average pool, linear (at `width` 16): the digits student
    of the demo's Tables 4-5 (the "AlexNet role": a smaller, weaker network than SmallCNN, ~5k parameters against
    ~93k)."""

    def __init__(self, *, num_classes: int, in_channels: int = 1, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_bn_relu(in_channels, width),
            nn.MaxPool2d(kernel_size=2),
            _conv_bn_relu(width, 2 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(2 * width, num_classes)
        init_conv_bn(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
