"""The CIFAR AlexNet variant used in distillation studies (student network of the paper's Table 4)."""

from __future__ import annotations

from torch import Tensor, nn

from repro.models.init import init_conv_bn


class AlexNetCifar(nn.Module):
    """AlexNet sized for 32x32 inputs, without dropout and without BatchNorm.

    Layout (spatial size for a 32x32 input in brackets):

    - conv 3x3 stride 2, 64 ch  + ReLU, max-pool 2  [16 -> 8]
    - conv 3x3, 192 ch          + ReLU, max-pool 2  [8 -> 4]
    - conv 3x3, 384 ch          + ReLU              [4]
    - conv 3x3, 256 ch          + ReLU              [4]
    - conv 3x3, 256 ch          + ReLU, max-pool 2  [4 -> 2]
    - adaptive average pool to 2x2 (the identity on 32x32; lets larger inputs through)
    - Linear(256*2*2, 4096) + ReLU, Linear(4096, 4096) + ReLU, Linear(4096, num_classes)

    `width` scales the convs (64: the channels above) and `hidden` is the fully-connected layers' 4096.

    This is the widespread PyTorch CIFAR AlexNet (5 convs, 3 fully-connected layers) with its two dropout
    layers removed, because the paper trains without dropout. There is no BatchNorm, as in the original.
    Convs are kaiming-initialised (fan_out); linear layers keep PyTorch's default init.
    """

    def __init__(self, *, num_classes: int, in_channels: int = 3, width: int = 64, hidden: int = 4096) -> None:
        super().__init__()
        c1, c2, c3, c4 = width, 3 * width, 6 * width, 4 * width  # 64, 192, 384, 256 at the default width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=3, stride=2, padding=1),
            nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.Conv2d(c4, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=False),
            nn.MaxPool2d(kernel_size=2),
        )
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.classifier = nn.Sequential(
            nn.Linear(c4 * 2 * 2, hidden),
            nn.ReLU(inplace=False),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=False),
            nn.Linear(hidden, num_classes),
        )
        init_conv_bn(self.features)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))
