"""Test helper: the overrides of a small noisy-digits run (40% uniform noise on the training labels, a clean 10% meta
split, 300 training and 100 test samples, on the CPU, no tracker), shared by the tests of the noisy-label methods.
A test adds its method and `optim.epochs`."""

from __future__ import annotations


def noisy_digits(*, meta_fraction: float | None = 0.1, device: str | None = "cpu") -> list[str]:
    """The overrides; `meta_fraction` / `device` None leaves the config's default (split/noisy.yaml's 2% meta split,
    device=auto) for a test that trains at those."""
    return [
        "split=noisy",
        *([f"split.meta_fraction={meta_fraction}"] if meta_fraction is not None else []),
        "noise=uniform",
        "noise.fraction=0.4",
        "data.subset=300",
        "data.test_subset=100",
        "tracker=none",
        "progress=none",
        *([f"device={device}"] if device is not None else []),
    ]


NOISY_DIGITS = noisy_digits()
