"""Test helper: the overrides of a small noisy-digits run (40% uniform noise on the training labels, a clean 10% meta
split, 300 training and 100 test samples, on the CPU, no tracker), shared by the tests of the noisy-label methods.
A test adds its method and `optim.epochs`."""

from __future__ import annotations

NOISY_DIGITS = [
    "split=noisy",
    "split.meta_fraction=0.1",
    "noise=uniform",
    "noise.fraction=0.4",
    "data.subset=300",
    "data.test_subset=100",
    "tracker=none",
    "progress=none",
    "device=cpu",
]
