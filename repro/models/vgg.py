"""VGG16 with BatchNorm in the form common CIFAR repositories use (one 512 -> classes linear layer, no dropout)."""

from __future__ import annotations

from torch import Tensor, nn

from repro.models.init import init_conv_bn

# torchvision's configuration "D": 13 conv layers; "M" is a 2x2 max-pool.
VGG16_LAYOUT: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


class VGG16(nn.Module):
    """13 x (3x3 conv-BN-ReLU) with five max-pools, global average pool, Linear(512, num_classes); `width` scales
    every conv's channels by width / 64 (64: torchvision's).

    On 32x32 inputs the five pools leave a 1x1 map, so the average pool is the identity there and only makes
    larger inputs work. No dropout and no hidden fully-connected layers: the paper says it uses no dropout, and
    the CIFAR form drops the ImageNet classifier. Convs are kaiming-initialised (fan_out), as in torchvision.
    """

    def __init__(self, *, num_classes: int, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out = int(item) * width // 64  # the layout's channels scaled by width / 64
                layers += [
                    nn.Conv2d(channels, out, kernel_size=3, padding=1),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=False),
                ]
                channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        init_conv_bn(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))
