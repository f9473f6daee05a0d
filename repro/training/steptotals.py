"""An epoch's training loss and accuracy, summed on the device so that a GPU step needs no host sync.

Reading a CUDA scalar (`loss.item()`) waits for the GPU to finish the step; one such read per step keeps the GPU
idle while Python prepares the next one. The sums stay on the device and the host reads them every
`read_every` steps (once per value shown), and once at the end of the epoch. Sums are float64 (loss x batch
size), as `loss.item() * n` summed in Python was, so CPU results are unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# Host reads per step on each device type: a CPU "sync" costs nothing, so keep the per-step NaN check there.
READ_EVERY = {"cpu": 1, "cuda": 50}


class StepTotals:
    def __init__(self, device: torch.device, read_every: int | None = None) -> None:
        self.read_every = read_every or READ_EVERY.get(device.type, 1)
        self._loss = torch.zeros((), dtype=torch.float64, device=device)
        self._correct = torch.zeros((), dtype=torch.float64, device=device)
        self.seen = 0
        self.steps = 0
        self.loss_sum, self.correct = 0.0, 0.0

    def add(self, loss: Tensor, logits: Tensor, y: Tensor) -> bool:
        """Add one step; returns True when the host read the sums (then `loss_sum`/`correct` are current)."""
        n = y.numel()
        self._loss += loss.detach().double() * n
        self._correct += (logits.detach().argmax(1) == y).sum()
        self.seen += n
        self.steps += 1
        if self.steps % self.read_every == 0:
            self.read()
            return True
        return False

    def read(self) -> None:
        """One host read of both sums."""
        self.loss_sum, self.correct = torch.stack([self._loss, self._correct]).tolist()

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss_sum)

    @property
    def mean_loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.seen, 1)
