"""The StudentNet's sample weights from a trained mentor, as google/mentornet computes them (`code/utils.py`,
`mentornet`, called by `code/cifar_train_mentornet.py`, `train_resnet_mentornet`), per step:

1. the epoch feature: the percentage of training done, floor(step / total steps * 100) (their `epoch_step` from the
   global step and --max_number_of_steps); with `fixed_epoch_after_burn_in` (DD) it stops at the burn-in epoch:
   min(epoch, burn_in_epoch);
2. the batch's loss percentile at p (`tf.contrib.distributions.percentile(loss, p * 100)`, whose default
   interpolation is "nearest": the losses sorted in descending order, index round((n - 1) * (1 - p)) with
   round-half-to-even, all in float32);
3. the moving average of that percentile, m <- m * decay + (1 - decay) * percentile, from 0 (their variable
   `mentor_inputs/cumulative` is created at zero and not among the variables restored from the mentor's checkpoint);
   the loss difference is loss - m, after this step's update;
4. v = sigmoid(mentor(loss, loss difference, label 0, epoch)) (the student passes zero labels);
5. burn-in: v = max(v, 1) while the epoch feature is below burn_in_epoch - 1 (every sample weighs 1);
6. example dropout (Liang et al. 2016, their `probabilistic_sample(v, rate, 'random')`): int(n * (1 - rate)) samples
   chosen uniformly at random keep their v, the others get 0; the rate is read at the epoch feature from the
   100-entry list that `parse_dropout_rate_list` makes of "[rate, epochs]+" pairs.

v enters no gradient (their v comes out of a py_func, which TensorFlow does not differentiate): the loss is
mean_i(v_i * CE_i), and the weight decay term is scaled by sum(v) / batch size (see the student, student.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from repro.methods.mentornet.network import EPOCHS, MentorNetwork


def dropout_rates(pairs: Sequence[float]) -> list[float]:
    """utils.py `parse_dropout_rate_list`: [rate, epochs, rate, epochs, ...] -> one rate per epoch, 100 of them.
    A ValueError says what is wrong (the options check turns it into the config's error)."""
    values = [float(v) for v in pairs]
    if len(values) % 2 or not values:
        raise ValueError(f"{values} is not a list of [rate, epochs] pairs")
    rates, counts = values[0::2], values[1::2]
    if any(c != int(c) or c < 0 for c in counts) or sum(counts) != EPOCHS:
        raise ValueError(f"its epoch counts {counts} must be whole numbers that add up to {EPOCHS}")
    if any(not 0 <= r <= 1 for r in rates):
        raise ValueError(f"its rates {rates} must lie in [0, 1]")
    return [r for r, c in zip(rates, counts) for _ in range(int(c))]


def epoch_percentage(step: int, total_steps: int) -> int:
    """floor(step / total_steps * 100), the 0-based step's percentage of training (0 when total is 0)."""
    return int(np.floor(step / total_steps * 100)) if total_steps > 0 else 0


def percentile_index(n: int, percentile: float) -> int:
    """The index, in the losses sorted in descending order, of TensorFlow's 'nearest' p-th percentile (float32
    arithmetic, round half to even: numpy's round)."""
    q = np.float32(percentile) * np.float32(100)
    frac_at_or_above = np.float32(1) - q / np.float32(100)
    return int(np.round(np.float32(n - 1) * frac_at_or_above))


def batch_percentile(loss: Tensor, percentile: float) -> Tensor:
    """The batch's loss percentile as their percentile op computes it (a 0-d tensor on the loss's device)."""
    return loss.sort(descending=True).values[percentile_index(loss.shape[0], percentile)]


def kept_count(n: int, rate: float) -> int:
    """int(n * (1 - rate)) as their py_func computes it: the rate arrives a float32 (their rates' tensor), and
    `1 - rate` with numpy 1.x's scalar promotion (a Python int and a float32 scalar) is a float64, so the float32's
    rounding error survives: at 0.05 (0.0500000007 in float32) 100 samples keep 94, not 95."""
    return int(n * (1.0 - float(np.float32(rate))))


@dataclass(frozen=True)
class WeightingSettings:
    """The student-side settings of cifar_train_mentornet.py's flags (values per curriculum: student.py)."""

    loss_percentile: float
    moving_average_decay: float
    burn_in_epoch: int
    fixed_epoch_after_burn_in: bool
    dropout_rates: tuple[float, ...]  # 100 rates, one per epoch percentage


@dataclass
class StepWeights:
    """One step's weights: `mentor` is the mentor's sigmoid output, `weights` what enters the loss (burn-in and
    dropout applied); `epoch` the epoch feature the mentor saw."""

    mentor: Tensor
    weights: Tensor
    epoch: int


class MentorWeighting:
    """The moving loss percentile and the rules above, around a frozen mentor. Its state (the moving average) goes
    into the run's checkpoint."""

    def __init__(self, mentor: MentorNetwork, settings: WeightingSettings, device: torch.device) -> None:
        self.mentor = mentor.to(device).eval().requires_grad_(False)
        self.settings = settings
        self.moving_average = torch.zeros((), device=device)

    def epoch_feature(self, step: int, total_steps: int) -> int:
        epoch = min(epoch_percentage(step, total_steps), EPOCHS - 1)
        s = self.settings
        return min(epoch, s.burn_in_epoch) if s.fixed_epoch_after_burn_in else epoch

    def __call__(self, loss: Tensor, step: int, total_steps: int) -> StepWeights:
        """The weights of a batch whose per-sample losses (detached, float32) are `loss`, at 0-based `step`."""
        s = self.settings
        epoch = self.epoch_feature(step, total_steps)
        decay = s.moving_average_decay
        self.moving_average = self.moving_average * decay + (1 - decay) * batch_percentile(loss, s.loss_percentile)
        features = torch.stack(
            [loss, loss - self.moving_average, torch.zeros_like(loss), torch.full_like(loss, float(epoch))], dim=1
        )
        with torch.autocast(loss.device.type, enabled=False):
            mentor = self.mentor.weights(features.float())
        weights = torch.ones_like(mentor) if epoch < s.burn_in_epoch - 1 else mentor
        n = int(loss.shape[0])
        kept = kept_count(n, s.dropout_rates[epoch])
        if kept < n:  # the `kept` samples with the smallest of n uniform draws keep their weight
            rank = torch.rand(n, device=loss.device).argsort().argsort()
            weights = torch.where(rank < kept, weights, torch.zeros_like(weights))
        return StepWeights(mentor, weights, epoch)

    def state_dict(self) -> dict[str, Tensor]:
        return {"moving_average": self.moving_average.detach().clone()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.moving_average = state["moving_average"].to(self.moving_average.device)
