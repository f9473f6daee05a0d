"""The one timer the benchmarks share: variants interleaved round-robin, so load changes on a shared machine hit
all of them alike, and the median over repeats after warm-up is what is reported (as ratios, never a bare time)."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def round_robin_medians(
    closures: dict[str, Callable[[], object]], *, warmup: int, repeats: int, cuda: bool = False
) -> dict[str, float]:
    """Median seconds per call of each closure. A closure's optional `setup` attribute runs untimed before each
    call; with `cuda`, the GPU is synchronised around each timed call so the time covers its kernels."""
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    samples: dict[str, list[float]] = {name: [] for name in closures}
    for round_ in range(warmup + repeats):
        for name, fn in closures.items():
            setup = getattr(fn, "setup", None)
            if setup:
                setup()
            sync()
            start = time.perf_counter()
            fn()
            sync()
            if round_ >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}
