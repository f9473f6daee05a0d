"""In-memory data sets and the one entry point that loads them by name.

Everything fits in memory (CIFAR as uint8: 150 MB; MNIST-1D's float32 signals: under 1 MB), so a data set is just
tensors plus the constants a loader needs (normalisation, whether augmentation is the standard practice for it).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from repro.data.arrays import ArrayDataset
from repro.data.mnist1d import load_mnist1d
from repro.data.splits import make_split
from repro.errors import UserError

__all__ = ["DATASET_NAMES", "ArrayDataset", "digits", "load_dataset"]

DATASET_NAMES = ("digits", "cifar10", "cifar100", "mnist1d")

# Digits train/test split: fixed so that every run and every machine sees the same test set.
DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0


def load_dataset(
    name: str, root: str | None, generator: Mapping[str, Any] | None = None
) -> tuple[ArrayDataset, ArrayDataset]:
    """(train, test) for `name` in DATASET_NAMES. `root` is where CIFAR lives; digits ignore it. `generator`:
    MNIST-1D's arguments (data.generator; None: the package's defaults), generated here, never downloaded."""
    if name == "digits":
        return digits()
    if name == "mnist1d":
        return load_mnist1d(generator)
    if name in ("cifar10", "cifar100"):
        from repro.data.cifar import load_cifar  # deferred: torchvision, imported only when CIFAR is asked for

        return load_cifar(name, root)
    raise UserError(
        f"Unknown data set {name!r}. Known data sets: {', '.join(DATASET_NAMES)}. "
        "Set data=<one of these> (digits and mnist1d need no download; CIFAR needs data.root)."
    )


def digits() -> tuple[ArrayDataset, ArrayDataset]:
    """scikit-learn's 8x8 handwritten digits (1797 images, shipped with the package: no download).

    Pixel values 0..16 are scaled to 0..255. The train/test split is stratified and fixed (30% test,
    seed DIGITS_SPLIT_SEED); mean/std come from the training images. No augmentation by default: a
    4-pixel crop of an 8x8 image destroys it.
    """
    from sklearn.datasets import load_digits  # deferred: scikit-learn is heavy, needed by the digits only

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
