"""In-memory data sets and the one entry point that loads them by name.

Everything fits in memory (CIFAR as uint8: 150 MB; MNIST-1D's float32 signals: under 1 MB), so a data set is just
tensors plus the constants a loader needs (normalisation, whether augmentation is the standard practice for it).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from repro.data.arrays import ArrayDataset
from repro.data.cifar import load_cifar
from repro.data.mnist1d import load_mnist1d
from repro.data.splits import make_split
from repro.errors import UserError

__all__ = ["DATASET_NAMES", "ArrayDataset", "digits", "load_dataset"]

DATASET_NAMES = ("digits", "cifar10", "cifar100", "mnist1d")

# Digits train/test split: fixed so that every run and every machine sees the same test set.
DIGITS_TEST_FRACTION = 0.3
DIGITS_SPLIT_SEED = 0
# Where scikit-learn ships the digits, inside its package: `load_digits` (sklearn/datasets/_base.py) reads this file,
# a gzipped CSV of 1797 rows, 64 pixel values (0..16) then the label.
DIGITS_FILE = ("datasets", "data", "digits.csv.gz")


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
    images_0_16, labels = digits_arrays()
    pixels = torch.tensor(images_0_16, dtype=torch.float64)
    images = torch.round(pixels * (255.0 / 16.0)).clamp_(0, 255).to(torch.uint8).unsqueeze(1)
    targets = torch.tensor(labels, dtype=torch.int64)
    classes = [str(c) for c in range(10)]

    train_idx, test_idx = make_split(
        targets, meta_fraction=DIGITS_TEST_FRACTION, folds=1, fold=0, seed=DIGITS_SPLIT_SEED
    )
    train = ArrayDataset(images[train_idx].contiguous(), targets[train_idx].contiguous(), classes, augment=False)
    test = ArrayDataset(
        images[test_idx].contiguous(), targets[test_idx].contiguous(), classes, train.mean, train.std, augment=False
    )
    return train, test


@functools.cache
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits' images (1797, 8, 8; values 0..16) and labels, as scikit-learn's `load_digits` gives them, read once
    per process (a sweep's worker and a test session load them for every run) and read-only.

    The file is read where scikit-learn ships it and parsed as `load_digits` parses it, without importing
    scikit-learn: `import sklearn.datasets` cost every process that trained on digits 2-3 CPU-s (more where byte-code
    is not kept), more than the training of a small run. A scikit-learn that moved the file is asked the usual way."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0], *DIGITS_FILE) if folders else None
    if path is not None and path.is_file():
        with gzip.open(path, mode="rt", encoding="utf-8") as lines:
            table = np.loadtxt(lines, delimiter=",")
        images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(int)
    else:
        from sklearn.datasets import load_digits  # deferred: heavy, and needed only where the file moved

        bunch = load_digits()
        images, labels = bunch.images, bunch.target
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
