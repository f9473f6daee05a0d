"""What a mentor learns from (google/mentornet `code/training_mentornet/`): the target weights v* of a curriculum.

- MentorNet PD (pre-defined): `models.py`'s `vstar_mentornet_pd`, evaluated on the feature grid that
  `data_generator.py`'s `generate_pretrain_defined` enumerates: every (loss, loss difference, label 0, epoch) of
  loss in {0, 0.1, ..., 9.9} and {10, 11, ..., 29}, difference in {-5, -4.9, ..., 4.9}, epoch in {0, ..., 99}
  (1.2 million rows), shuffled, the first 100,000 kept, the first 80% to train on and the rest but one row to test
  (their `ts = data[tr_size + 1:]`). Their generator calls the v* function without its gamma (the command's
  `--vstar_gamma=1` never reaches it), so SPCL's gamma is its default, 1.
- MentorNet DD (data-driven): `generate_data_driven` on a StudentNet dump (epoch percentage, noisy label, clean
  label, loss per row): v* = 1 where the noisy label is the clean one, else 0; the loss difference is the loss
  minus the dump's p-th percentile of all its losses (numpy's default, linear interpolation; their command trains
  on p = 90); the label feature is 0. Shuffled, 80% to train on, the rest but one row to test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

PD_BOUNDARIES = (18, 90)  # vstar_mentornet_pd: all ones up to epoch 18, self-paced below 90, SPCL linear from 90
PD_SAMPLE_SIZE = 100_000  # data_generator.py's --sample_size
TRAIN_SHARE = 0.8  # data_generator.py: tr_size = int(0.8 * rows)


def vstar_self_paced(features: Tensor) -> Tensor:
    """models.py `vstar_self_paced`: 1 where the loss difference is <= 0, else 0."""
    return (features[:, 1] <= 0).to(features.dtype)


def vstar_spcl_linear(features: Tensor, gamma: float = 1.0) -> Tensor:
    """models.py `vstar_spcl_linear`: clip(1 - diff / gamma, 0, 1)."""
    return (1 - features[:, 1] / gamma).clamp(0, 1)


def vstar_mentornet_pd(features: Tensor, gamma: float = 1.0) -> Tensor:
    """models.py `vstar_mentornet_pd`: SPCL linear from epoch 90, self-paced below it, 1 up to epoch 18."""
    epoch = features[:, 3]
    v = torch.where(epoch >= PD_BOUNDARIES[1], vstar_spcl_linear(features, gamma), vstar_self_paced(features))
    return torch.where(epoch <= PD_BOUNDARIES[0], torch.ones_like(v), v)


def enumerated_features() -> Tensor:
    """generate_pretrain_defined's grid, in itertools.product order (loss slowest, epoch fastest), float32."""
    loss = np.concatenate((np.arange(0, 10, 0.1), np.arange(10, 30, 1)))
    diff = np.arange(-5, 5, 0.1)
    label = np.array([0.0])
    epoch = np.arange(0, 100, 1)
    grid = np.stack(np.meshgrid(loss, diff, label, epoch, indexing="ij"), axis=-1).reshape(-1, 4)
    return torch.from_numpy(grid.astype(np.float32))


@dataclass
class MentorData:
    """A mentor's training and test rows: features (n, 4) and their target weights v* (n,)."""

    train_x: Tensor
    train_v: Tensor
    test_x: Tensor
    test_v: Tensor

    @property
    def binary(self) -> bool:
        """reader.py's `is_binary_label`: exactly the two targets 0 and 1 (then the mentor trains on the sigmoid
        cross-entropy, else on the squared error of sigmoid(logit))."""
        values = torch.unique(self.train_v)
        return values.numel() == 2 and bool((values == torch.tensor([0.0, 1.0])).all())


def split_rows(x: Tensor, v: Tensor, generator: torch.Generator, keep: int | None = None) -> MentorData:
    """Shuffle the rows, keep the first `keep` (all: None), then 80% to train on and the rest but one to test."""
    perm = torch.randperm(x.shape[0], generator=generator)
    if keep is not None:
        perm = perm[: min(keep, perm.numel())]
    x, v = x[perm], v[perm]
    cut = int(x.shape[0] * TRAIN_SHARE)
    return MentorData(x[:cut], v[:cut], x[cut + 1 :], v[cut + 1 :])


def pd_data(generator: torch.Generator, *, gamma: float = 1.0, sample_size: int = PD_SAMPLE_SIZE) -> MentorData:
    """MentorNet PD's rows: the enumerated grid with vstar_mentornet_pd's weights."""
    grid = enumerated_features()
    return split_rows(grid, vstar_mentornet_pd(grid, gamma), generator, keep=sample_size)


@dataclass
class Dump:
    """A StudentNet dump, one row per (sample, epoch): the epoch percentage (0-99) of the step that saw the sample,
    its noisy (given) and clean labels, its training loss then."""

    epoch: Tensor
    noisy: Tensor
    clean: Tensor
    loss: Tensor

    def __len__(self) -> int:
        return int(self.loss.numel())


def dd_features(dump: Dump, percentile: float) -> tuple[Tensor, Tensor, float]:
    """MentorNet DD's rows of a dump: features (loss, loss - the p-th percentile of the dump's losses, 0, epoch),
    v* = [noisy label == clean label], and that percentile's value."""
    loss = dump.loss.double()
    threshold = float(np.percentile(loss.numpy(), percentile))
    x = torch.stack([loss, loss - threshold, torch.zeros_like(loss), dump.epoch.double()], dim=1).float()
    return x, (dump.noisy == dump.clean).float(), threshold


def dd_data(dump: Dump, generator: torch.Generator, *, percentile: float) -> tuple[MentorData, float]:
    """MentorNet DD's rows of a dump, split as generate_data_driven splits them, and the percentile's value."""
    x, v, threshold = dd_features(dump, percentile)
    return split_rows(x, v, generator), threshold
