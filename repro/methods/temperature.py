"""Temperature scaling of a teacher's predictions or of converged labels (Sec. 3.4).

Scaling: `scale_logits(z, T) = softmax(z / T)` (Hinton et al.) and `scale_probabilities(p, T) = p^(1/T)`
renormalised; the two agree, since softmax(z / T) = softmax(z)^(1/T) / sum. T = 1 leaves the distribution as it is;
T = 0 is the limit T -> 0: a one-hot row on the arg-max class (ties: the first such class).

The temperature search (the paper: "the temperature is tuned by searching in the range of [0, 10] with increments
of 0.25") is a sweep's tuning stage over method.temperature (sweeps/table4.yaml,
repro/sweep/stages/tune/tuning_runs.py): a student
run is given a number, and a tuned one picks it from its tuning runs when it starts (repro/sweep/stages/tune/tuning.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def scale_logits(logits: Tensor, temperature: float) -> Tensor:
    """softmax(logits / T) row-wise; T = 0: one-hot on the arg-max."""
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=1), logits.shape[1]).to(logits.dtype)
    return F.softmax(logits / temperature, dim=1)


def scale_probabilities(p: Tensor, temperature: float) -> Tensor:
    """p^(1/T) renormalised row-wise (zeros stay zero at every T > 0); T = 0: one-hot on the arg-max."""
    if temperature == 0:
        return F.one_hot(p.argmax(dim=1), p.shape[1]).to(p.dtype)
    log_p = torch.where(p > 0, torch.log(p.clamp_min(torch.finfo(p.dtype).tiny)), torch.full_like(p, -math.inf))
    return F.softmax(log_p / temperature, dim=1)
