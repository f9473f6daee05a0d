"""Data: digits (embedded default), CIFAR-10/100 (torchvision layout, never downloads), splits, noise, batches."""

from __future__ import annotations

from repro.data.datasets import DATASET_NAMES, ArrayDataset, digits, load_dataset
from repro.data.loader import BatchLoader
from repro.data.noise import NOISE_MODELS, actual_noise_rate, inject_noise, inject_uniform_noise, transition_matrix
from repro.data.splits import make_split

__all__ = [
    "DATASET_NAMES",
    "ArrayDataset",
    "BatchLoader",
    "digits",
    "NOISE_MODELS",
    "actual_noise_rate",
    "inject_noise",
    "inject_uniform_noise",
    "transition_matrix",
    "load_dataset",
    "make_split",
]
