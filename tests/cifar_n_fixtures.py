"""Fabricate CIFAR-N label files the way the real ones are made: `torch.save` of a dict of numpy int64 arrays,
with the fabricated CIFAR's training labels as `clean_label` (the order the real files follow)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch


def simulated_annotations(clean: np.ndarray, num_classes: int, *, rate: float, rng: np.random.Generator) -> np.ndarray:
    """One annotator: each label replaced by a uniformly random *other* class with probability `rate`."""
    flip = rng.random(clean.size) < rate
    other = (clean + rng.integers(1, num_classes, size=clean.size)) % num_classes
    return np.where(flip, other, clean).astype(np.int64)


def make_cifar10n(
    path: str | Path, clean_labels: Sequence[int], *, seed: int = 0, rates: tuple[float, float, float] = (0.2, 0.3, 0.4)
) -> dict[str, np.ndarray]:
    """Write a CIFAR-10N-like file (clean, aggre, worse, random1-3) and return its arrays."""
    rng = np.random.default_rng(seed)
    clean = np.asarray(clean_labels, dtype=np.int64)
    votes = np.stack([simulated_annotations(clean, 10, rate=r, rng=rng) for r in rates], axis=1)
    counts = np.stack([(votes == c).sum(1) for c in range(10)], axis=1)
    aggre = np.where(counts.max(1) >= 2, counts.argmax(1), votes[:, 0]).astype(np.int64)  # majority, else #1
    wrong = votes != clean[:, None]
    worse = np.where(wrong.any(1), votes[np.arange(clean.size), wrong.argmax(1)], clean).astype(np.int64)
    arrays = {
        "clean_label": clean,
        "worse_label": worse,
        "aggre_label": aggre,
        "random_label1": votes[:, 0].copy(),
        "random_label2": votes[:, 1].copy(),
        "random_label3": votes[:, 2].copy(),
    }
    torch.save(arrays, path)
    return arrays


def make_cifar100n(
    path: str | Path, clean_labels: Sequence[int], *, seed: int = 0, rate: float = 0.4
) -> dict[str, np.ndarray]:
    """Write a CIFAR-100N-like file (clean/noisy fine and coarse labels) and return its arrays."""
    rng = np.random.default_rng(seed)
    clean = np.asarray(clean_labels, dtype=np.int64)
    noisy = simulated_annotations(clean, 100, rate=rate, rng=rng)
    arrays = {
        "clean_label": clean,
        "noisy_label": noisy,
        "clean_coarse_label": clean // 5,
        "noisy_coarse_label": noisy // 5,
    }
    torch.save(arrays, path)
    return arrays
