"""Temperature scaling (hand-made logits and labels, T = 0) and the temperature's checks
(repro/methods/temperature.py). The temperature search is a tuning stage (tests/sweep/stages/tune/test_tuning.py,
tests/sweep/stages/teachers/test_sweep_teachers.py)."""

from __future__ import annotations

import math

import pytest
import torch

from repro.config import load_config
from repro.errors import UserError
from repro.methods.temperature import scale_logits, scale_probabilities


def test_scale_logits_is_softmax_of_logits_over_t():
    z = torch.tensor([[2.0, 0.0, -2.0]])
    e = [math.exp(v / 2) for v in (2.0, 0.0, -2.0)]
    assert torch.allclose(scale_logits(z, 2.0), torch.tensor([[v / sum(e) for v in e]]))
    assert torch.allclose(scale_logits(z, 1.0), torch.softmax(z, 1))


def test_scale_probabilities_by_hand():
    p = torch.tensor([[0.5, 0.3, 0.2, 0.0]])
    for t in (0.5, 1.0, 2.0, 10.0):
        powered = [v ** (1 / t) for v in (0.5, 0.3, 0.2)] + [0.0]
        want = torch.tensor([[v / sum(powered) for v in powered]])
        got = scale_probabilities(p, t)
        assert torch.allclose(got, want, atol=1e-6), t
        assert got[0, 3] == 0  # a class with no mass stays at zero at every temperature
    assert torch.allclose(scale_probabilities(p, 1.0), p)  # T = 1 leaves the labels as they are


def test_scaling_logits_equals_scaling_their_softmax():
    torch.manual_seed(0)
    z = torch.randn(5, 7) * 3
    for t in (0.25, 1.0, 3.5):
        assert torch.allclose(scale_logits(z, t), scale_probabilities(torch.softmax(z, 1), t), atol=1e-5)


def test_zero_temperature_is_the_arg_max_one_hot():
    z = torch.tensor([[0.1, 3.0, 2.9], [5.0, 5.0, -1.0]])  # second row: a tie goes to the first class
    want = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert torch.equal(scale_logits(z, 0.0), want)
    assert torch.equal(scale_probabilities(torch.softmax(z, 1), 0.0), want)


@pytest.mark.slow
def test_bad_temperatures():
    for good in (0, 2, 0.25):
        assert load_config(["method=distillation", f"method.temperature={good}"]).method.temperature == good
    for bad in ("-0.25", "warm", "nan", "true", "search"):
        with pytest.raises(UserError, match=r"must be a finite number >= 0 \(.*tuning stage"):  # where search went
            load_config(["method=transferred_labels", f"method.temperature={bad}"])
    with pytest.raises(UserError, match="method.temperature=-1"):
        load_config(["method=distillation", "method.temperature=-1"])
