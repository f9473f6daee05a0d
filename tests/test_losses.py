"""Losses against values worked out by hand (math.log), not by the code under test."""

from __future__ import annotations

import math

import pytest
import torch

from repro.errors import UserError
from repro.losses import confidence_penalty, one_hot, smoothed_targets, soft_cross_entropy

# Row 0: logits (0, 0) -> softmax (1/2, 1/2). Row 1: logits (0, ln 3) -> softmax (1/4, 3/4).
LOGITS = torch.tensor([[0.0, 0.0], [0.0, math.log(3.0)]], dtype=torch.float64)


def test_soft_cross_entropy_by_hand():
    p = torch.tensor([[0.3, 0.7], [1.0, 0.0]], dtype=torch.float64)
    row0 = -(0.3 * math.log(0.5) + 0.7 * math.log(0.5))  # = ln 2
    row1 = -math.log(0.25)  # = ln 4
    assert soft_cross_entropy(LOGITS, p).item() == pytest.approx((row0 + row1) / 2, rel=1e-12)


def test_weighted_soft_cross_entropy_is_mean_of_weighted_terms():
    p = torch.tensor([[0.3, 0.7], [0.0, 1.0]], dtype=torch.float64)
    w = torch.tensor([1.0, 3.0], dtype=torch.float64)
    row0, row1 = math.log(2.0), -math.log(0.75)
    expected = (1.0 * row0 + 3.0 * row1) / 2  # divided by n, not by sum(w)
    assert soft_cross_entropy(LOGITS, p, weight=w).item() == pytest.approx(expected, rel=1e-12)


def test_soft_cross_entropy_rejects_mismatched_shapes():
    with pytest.raises(UserError, match="same"):
        soft_cross_entropy(LOGITS, torch.ones(2, 3))
    with pytest.raises(UserError, match="weights"):
        soft_cross_entropy(LOGITS, torch.ones(2, 2, dtype=torch.float64), weight=torch.ones(3))


def test_one_hot_values_and_range_check():
    assert one_hot(torch.tensor([2, 0]), 3).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    with pytest.raises(UserError, match=r"\[0, 3\)"):
        one_hot(torch.tensor([0, 3]), 3)
    with pytest.raises(UserError, match="1-D"):
        one_hot(torch.zeros(2, 2, dtype=torch.long), 3)


def test_smoothed_targets_follow_szegedy_convention():
    targets = smoothed_targets(torch.tensor([2, 0]), num_classes=4, epsilon=0.2, dtype=torch.float64)
    # Target: 1 - 0.2 + 0.2/4 = 0.85; every other class 0.2/4 = 0.05.
    expected = [[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]]
    assert torch.allclose(targets, torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-15)
    with pytest.raises(UserError, match="epsilon"):
        smoothed_targets(torch.tensor([0]), 4, 1.5)


def test_confidence_penalty_is_minus_beta_mean_entropy():
    entropy0 = math.log(2.0)
    entropy1 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    expected = -0.5 * (entropy0 + entropy1) / 2
    assert confidence_penalty(LOGITS, beta=0.5).item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(UserError, match="beta"):
        confidence_penalty(LOGITS, beta=-1.0)
