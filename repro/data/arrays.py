"""The in-memory data set every loader and run reads: images (uint8 pixels, or float32 signals), int64 targets, class
names, loader defaults.

Why its own module: both the digits loader (datasets.py) and the CIFAR reader (cifar.py) build it, and
datasets.py dispatches to cifar.py; with the class in either of them the two would import each other."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from repro.errors import UserError

# What images may be stored as: uint8 pixels (0..255) or float32 values already on their own scale.
IMAGE_DTYPES = (torch.uint8, torch.float32)


def unit_scale(images: Tensor) -> Tensor:
    """Stored images as float on the scale `mean` / `std` are given on: uint8 pixels / 255, float32 values as they
    are. The batch loader and evaluation both read images through this, so the two never disagree."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


@dataclass
class ArrayDataset:
    """Images `[N, C, H, W]`, targets `int64 [N]`, class names, and the data set's loader defaults.

    Images are uint8 pixels (digits, CIFAR: 0..255, read on the 0..1 scale) or float32 values on their own scale
    (MNIST-1D's signals, stored as [N, C, 1, length]): `unit_scale` is the one place that tells them apart.
    `mean` / `std` are per-channel constants on that scale (computed from `images` when not given: pass the
    training set's to a test set); `augment` says whether the standard augmentation (random crop with padding +
    horizontal flip) is used for this data set by default.
    """

    images: Tensor
    targets: Tensor
    classes: list[str]
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    augment: bool = False

    def __post_init__(self) -> None:
        if self.images.dim() != 4 or self.images.dtype not in IMAGE_DTYPES:
            raise UserError(
                f"ArrayDataset.images must be a uint8 or float32 tensor [N, C, H, W]; got {self.images.dtype} "
                f"{tuple(self.images.shape)}. Convert images to uint8 channels-first (signals: float32 [N, C, 1, L])."
            )
        if self.targets.shape != (self.images.shape[0],) or self.targets.dtype != torch.int64:
            raise UserError(
                f"ArrayDataset.targets must be int64 with one entry per image ({self.images.shape[0]}); got "
                f"{self.targets.dtype} {tuple(self.targets.shape)}."
            )
        if self.mean is None or self.std is None:
            pixels = unit_scale(self.images).double().transpose(0, 1).reshape(self.in_channels, -1)
            self.mean = tuple(pixels.mean(1).tolist()) if self.mean is None else self.mean
            self.std = tuple(pixels.std(1).tolist()) if self.std is None else self.std
        self.mean, self.std = tuple(float(m) for m in self.mean), tuple(float(s) for s in self.std)
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise UserError(
                f"ArrayDataset.mean/std need one value per channel ({self.in_channels}); got {self.mean}, {self.std}."
            )
        if self.targets.numel() and int(self.targets.max()) >= len(self.classes):
            raise UserError(
                f"ArrayDataset has {len(self.classes)} class names but a target {int(self.targets.max())}; "
                "every target must index into `classes`."
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[2]
