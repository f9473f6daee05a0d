"""Data: digits (embedded default), CIFAR-10/100 (torchvision layout, never downloads), splits, noise, batches."""

from __future__ import annotations

from repro.data.datasets import DATASET_NAMES, ArrayDataset, digits, load_dataset
from repro.data.loader import BatchLoader
from repro.data.noise import inject_uniform_noise
from repro.data.splits import make_split

__all__ = [
    "DATASET_NAMES",
    "ArrayDataset",
    "BatchLoader",
    "digits",
    "inject_uniform_noise",
    "load_dataset",
    "make_split",
]
