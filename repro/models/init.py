"""The weight initialisation the convnets share (torchvision's ResNet convention), 2-D and 1-D alike."""

from __future__ import annotations

from torch import nn


def init_conv_bn(root: nn.Module) -> None:
    """Kaiming-normal (fan_out) convs with zero bias, BatchNorm at weight 1 / bias 0; other layers keep torch's."""
    for module in root.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
