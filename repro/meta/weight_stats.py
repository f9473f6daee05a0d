"""What the reweighting methods (L2RW, Meta-Weight-Net) record about their sample weights each epoch: how much
weight the noisy and the clean samples get, as the weights enter the model step.

Weights are recorded in the engine's mean form: the model step's loss is (1/n) sum_i w_i CE_i, so w_i = 1 for every
sample is plain training; weights normalised to sum 1 (L2RW, normalised Meta-Weight-Net) are recorded as n times
their normalised value (mean 1 within a batch). Keys of the metrics row (means over the epoch):

- weight_mean_noisy, weight_mean_clean: mean weight of the epoch's noisy / clean training samples;
- weight_share_noisy: share of a batch's total weight on its noisy samples, averaged over the epoch's steps (steps
  whose weights are all zero are left out);
- weight_hist_noisy, weight_hist_clean: counts over weight_hist_edges, 10 equal bins over [0, hist_max] (hist_max
  fixed per method; larger weights fall into the last bin).

A run without noisy samples gets NaN for the noisy scalars and no weight_hist_noisy.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.training.protocols import Recorder, When

BINS = 10


def histogram(values: Tensor, hist_max: float, bins: int = BINS) -> list[int]:
    """Counts of `values` over `bins` equal bins of [0, hist_max]; values above hist_max count in the last bin."""
    if values.numel() == 0:
        return [0] * bins
    index = (values.double() / hist_max * bins).floor().long().clamp_(0, bins - 1)
    return torch.bincount(index, minlength=bins).tolist()


class WeightStats:
    """Accumulates one epoch of per-sample weights (kept on the device until the epoch ends: no sync per step)."""

    def __init__(self, noisy_mask: Tensor, hist_max: float) -> None:
        self.noisy_mask = noisy_mask.bool()
        self.has_noise = bool(self.noisy_mask.any())
        self.hist_max = float(hist_max)
        self.edges = [self.hist_max * k / BINS for k in range(BINS + 1)]
        self._weights: list[Tensor] = []
        self._noisy: list[Tensor] = []
        # The last finished epoch's weights of noisy / clean samples, for histograms (W&B).
        self.last_noisy = torch.empty(0)
        self.last_clean = torch.empty(0)

    def add(self, idx: Tensor, weights: Tensor) -> None:
        """One step: global sample indices (n,) and their weights in the mean form (n,)."""
        if self.noisy_mask.device != idx.device:
            self.noisy_mask = self.noisy_mask.to(idx.device)  # once: no copy of the (N,) mask per step
        self._weights.append(weights.detach().float())
        self._noisy.append(self.noisy_mask[idx])

    def epoch_row(self) -> dict[str, Any]:
        """The epoch's keys (see the module docstring), then start a new epoch."""
        if not self._weights:
            return {}
        steps_w, steps_noisy = self._weights, self._noisy
        self._weights, self._noisy = [], []
        totals = torch.stack([w.sum() for w in steps_w])
        noisy_totals = torch.stack([(w * m).sum() for w, m in zip(steps_w, steps_noisy)])
        weights, noisy = torch.cat(steps_w).cpu(), torch.cat(steps_noisy).cpu()
        totals, noisy_totals = totals.cpu(), noisy_totals.cpu()
        self.last_noisy, self.last_clean = weights[noisy], weights[~noisy]
        nan = float("nan")
        positive = totals > 0
        row: dict[str, Any] = {
            "weight_mean_clean": float(self.last_clean.mean()) if self.last_clean.numel() else nan,
            "weight_mean_noisy": float(self.last_noisy.mean()) if self.has_noise and self.last_noisy.numel() else nan,
            "weight_share_noisy": (
                float((noisy_totals[positive] / totals[positive]).mean())
                if self.has_noise and bool(positive.any())
                else nan
            ),
            "weight_hist_edges": self.edges,
            "weight_hist_clean": histogram(self.last_clean, self.hist_max),
        }
        if self.has_noise:
            row["weight_hist_noisy"] = histogram(self.last_noisy, self.hist_max)
        return row


class WeightHistogramRecorder(Recorder):
    """Logs the last epoch's weights of noisy and clean samples as W&B histograms (weights/noisy, weights/clean);
    the metrics row already holds the counts."""

    records = "W&B histograms of the epoch's sample weights (weights/noisy, weights/clean)"
    when = When.EVERY_EPOCH

    def __init__(self, stats: WeightStats) -> None:
        self.stats = stats

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if self.stats.has_noise and self.stats.last_noisy.numel():
            tracker.log_histogram("weights/noisy", self.stats.last_noisy.numpy(), step=epoch + 1)
        if self.stats.last_clean.numel():
            tracker.log_histogram("weights/clean", self.stats.last_clean.numpy(), step=epoch + 1)

    def summary(self) -> dict[str, Any]:
        return {}
