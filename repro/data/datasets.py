"""In-memory data sets and the one entry point that loads them by name.

Everything fits in memory as uint8 (CIFAR: 150 MB), so a data set is just tensors plus the constants a
loader needs (normalisation, whether augmentation is the standard practice for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from repro.errors import UserError

DATASET_NAMES = ("digits", "cifar10", "cifar100")

# Digits train/test split: fixed so that every run and every machine sees the same test set.
DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0


@dataclass
class ArrayDataset:
    """Images `uint8 [N, C, H, W]`, targets `int64 [N]`, class names, and the data set's loader defaults.

    `mean` / `std` are per-channel constants on the 0..1 pixel scale (computed from `images` when not given:
    pass the training set's to a test set); `augment` says whether the standard
    augmentation (random crop with padding + horizontal flip) is used for this data set by default.
    """

    images: Tensor
    targets: Tensor
    classes: list[str]
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    augment: bool = False

    def __post_init__(self) -> None:
        if self.images.dim() != 4 or self.images.dtype != torch.uint8:
            raise UserError(
                f"ArrayDataset.images must be a uint8 tensor [N, C, H, W]; got {self.images.dtype} "
                f"{tuple(self.images.shape)}. Convert images to uint8 channels-first."
            )
        if self.targets.shape != (self.images.shape[0],) or self.targets.dtype != torch.int64:
            raise UserError(
                f"ArrayDataset.targets must be int64 with one entry per image ({self.images.shape[0]}); got "
                f"{self.targets.dtype} {tuple(self.targets.shape)}."
            )
        if self.mean is None or self.std is None:
            pixels = self.images.double().div(255.0).transpose(0, 1).reshape(self.in_channels, -1)
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


def load_dataset(name: str, root: str | None) -> tuple[ArrayDataset, ArrayDataset]:
    """(train, test) for `name` in DATASET_NAMES. `root` is where CIFAR lives; digits ignore it."""
    if name == "digits":
        return digits()
    if name in ("cifar10", "cifar100"):
        from repro.data.cifar import load_cifar  # torchvision is only imported when CIFAR is asked for

        return load_cifar(name, root)
    raise UserError(
        f"Unknown data set {name!r}. Known data sets: {', '.join(DATASET_NAMES)}. "
        "Set data=<one of these> (digits needs no download; CIFAR needs data.root)."
    )


def digits() -> tuple[ArrayDataset, ArrayDataset]:
    """scikit-learn's 8x8 handwritten digits (1797 images, shipped with the package: no download).

    Pixel values 0..16 are scaled to 0..255. The train/test split is stratified and fixed (30% test,
    seed DIGITS_SPLIT_SEED); mean/std come from the training images. No augmentation by default: a
    4-pixel crop of an 8x8 image destroys it.
    """
    from sklearn.datasets import load_digits

    from repro.data.splits import make_split

    bunch = load_digits()
    pixels = torch.as_tensor(bunch.images, dtype=torch.float64)
    images = torch.round(pixels * (255.0 / 16.0)).clamp_(0, 255).to(torch.uint8).unsqueeze(1)
    targets = torch.as_tensor(bunch.target, dtype=torch.int64)
    classes = [str(c) for c in bunch.target_names]

    train_idx, test_idx = make_split(
        targets, meta_fraction=DIGITS_TEST_FRACTION, folds=1, fold=0, seed=DIGITS_SPLIT_SEED
    )
    train = ArrayDataset(images[train_idx].contiguous(), targets[train_idx].contiguous(), classes, augment=False)
    test = ArrayDataset(
        images[test_idx].contiguous(), targets[test_idx].contiguous(), classes, train.mean, train.std, augment=False
    )
    return train, test
