"""MentorNet's student weights against values computed by hand from the authors' formulas (google/mentornet,
code/utils.py `mentornet`) on fixed inputs: TensorFlow's nearest percentile, the moving average of the loss
percentile, burn-in, a fixed epoch after it, example dropout, and the authors' settings by noise level."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from repro.methods.mentornet.student import authors_percentile, weighting_settings
from repro.methods.mentornet.weighting import (
    MentorWeighting,
    WeightingSettings,
    batch_percentile,
    dropout_rates,
    epoch_percentage,
    kept_count,
    percentile_index,
)


def test_tensorflows_nearest_percentile():
    # tf.contrib.distributions.percentile's own example: [1, 2, 3, 4] at q=30 is 2.0
    assert float(batch_percentile(torch.tensor([3.0, 1.0, 4.0, 2.0]), 0.3)) == 2.0
    # descending order, index round((n - 1) * (1 - p)), half to even: n=4, p=0.5 -> round(1.5) = 2 -> the lower middle
    assert percentile_index(4, 0.5) == 2 and float(batch_percentile(torch.tensor([1.0, 2, 3, 4]), 0.5)) == 2.0
    assert percentile_index(128, 0.75) == 32  # 127 * 0.25 = 31.75
    assert percentile_index(100, 0.8) == 20 and percentile_index(3, 0.75) == 0  # 2 * 0.25 = 0.5 -> 0


def test_dropout_rates_and_kept_samples():
    rates = dropout_rates([0.5, 17, 0.05, 83])
    assert len(rates) == 100 and rates[16] == 0.5 and rates[17] == 0.05 and rates[99] == 0.05
    assert dropout_rates([0.5, 17, 0.05, 78, 0.9, 5])[95] == 0.9
    for bad in ([0.5, 17, 0.05, 80], [0.5, 17.5, 0.05, 82.5], [1.5, 100], [0.5]):
        with pytest.raises(ValueError):
            dropout_rates(bad)
    # their float32 rate in float64 arithmetic: 100 x (1 - 0.0500000007) = 94.99999993, so a batch of 100 keeps 94
    assert [kept_count(128, 0.05), kept_count(100, 0.05), kept_count(128, 0.5), kept_count(7, 0.0)] == [121, 94, 64, 7]
    assert [kept_count(100, 0.9), kept_count(100, 1.0), kept_count(32, 0.05)] == [10, 0, 30]
    assert epoch_percentage(0, 300) == 0 and epoch_percentage(299, 300) == 99 and epoch_percentage(57, 300) == 19


class _Recording(torch.nn.Module):
    """A stand-in mentor whose weight is sigmoid(-loss_diff), recording the features it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def weights(self, features: torch.Tensor) -> torch.Tensor:
        self.seen.append(features.clone())
        return torch.sigmoid(-features[:, 1])


def _weighting(**settings) -> tuple[MentorWeighting, _Recording]:
    defaults = dict(
        loss_percentile=0.5,
        moving_average_decay=0.5,
        burn_in_epoch=0,
        fixed_epoch_after_burn_in=False,
        dropout_rates=(0.0,) * 100,
    )
    mentor = _Recording()
    return MentorWeighting(mentor, WeightingSettings(**{**defaults, **settings}), torch.device("cpu")), mentor


def test_the_moving_percentile_and_the_features_the_mentor_sees():
    weighting, mentor = _weighting()
    first = weighting(torch.tensor([1.0, 2.0, 3.0, 4.0]), step=0, total_steps=10)
    # percentile 0.5 of [1, 2, 3, 4] (descending [4, 3, 2, 1], index round(1.5) = 2) is 2; m = 0.5 * 0 + 0.5 * 2 = 1
    assert mentor.seen[0].tolist() == [[1, 0, 0, 0], [2, 1, 0, 0], [3, 2, 0, 0], [4, 3, 0, 0]]
    assert first.weights.tolist() == pytest.approx([1 / (1 + math.exp(d)) for d in (0, 1, 2, 3)])  # sigmoid(-d)
    weighting(torch.tensor([2.0, 2.0, 2.0, 2.0]), step=3, total_steps=10)
    # m = 0.5 * 1 + 0.5 * 2 = 1.5; the epoch feature is floor(3 / 10 * 100) = 30
    assert mentor.seen[1][:, 1].tolist() == [0.5] * 4 and mentor.seen[1][:, 3].tolist() == [30] * 4
    assert float(weighting.moving_average) == 1.5


def test_burn_in_fixed_epoch_and_example_dropout():
    rates = tuple(dropout_rates([0.5, 17, 0.05, 78, 0.9, 5]))
    weighting, mentor = _weighting(burn_in_epoch=18, fixed_epoch_after_burn_in=True, dropout_rates=rates)
    loss = torch.linspace(0.1, 3.0, 40)
    early = weighting(loss, step=10, total_steps=100)  # epoch 10 < 18 - 1: every weight 1, then half dropped
    assert early.epoch == 10 and sorted(set(early.weights.tolist())) == [0.0, 1.0]
    assert int((early.weights == 1).sum()) == kept_count(40, 0.5) == 20
    late = weighting(loss, step=97, total_steps=100)  # epoch 97 held at 18: the mentor's weights, 5% dropped
    assert late.epoch == 18 and mentor.seen[-1][:, 3].tolist() == [18] * 40
    kept = late.weights != 0
    assert int(kept.sum()) == kept_count(40, 0.05) == 37  # 40 x (1 - 0.0500000007), as their float32 rate gives
    assert torch.equal(late.weights[kept], late.mentor[kept])
    at_17 = weighting(loss, step=17, total_steps=100)  # epoch 17 = burn_in - 1: the mentor decides already
    assert torch.equal(at_17.weights[at_17.weights != 0], at_17.mentor[at_17.weights != 0])


def test_the_authors_percentile_and_curriculum_settings_by_noise_level():
    got = {(c, f): authors_percentile(c, f) for c in ("pd", "dd") for f in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9)}
    assert [got["pd", f] for f in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9)] == [0.75, 0.75, 0.75, 0.5, 0.5, 0.5]
    assert [got["dd", f] for f in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9)] == [0.8, 0.8, 0.6, 0.5, 0.5, 0.5]
    options = SimpleNamespace(
        curriculum="dd",
        loss_percentile=None,
        moving_average_decay=0.5,
        burn_in_epoch=None,
        fixed_epoch_after_burn_in=None,
        example_dropout_rates=None,
    )
    dd = weighting_settings(options, 0.4)
    assert (dd.loss_percentile, dd.burn_in_epoch, dd.fixed_epoch_after_burn_in) == (0.6, 18, True)
    assert dd.dropout_rates[95] == 0.9 and dd.dropout_rates[0] == 0.5
    pd = weighting_settings(SimpleNamespace(**{**vars(options), "curriculum": "pd", "loss_percentile": 0.3}), 0.4)
    assert (pd.loss_percentile, pd.burn_in_epoch, pd.fixed_epoch_after_burn_in) == (0.3, 0, False)
    assert set(pd.dropout_rates[17:]) == {0.05}
