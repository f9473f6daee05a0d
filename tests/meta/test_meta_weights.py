"""dL_meta/dw from the shared engine (repro.meta.sample_weight_meta_gradient) against the double-backward
reference, in float64, on a convnet with BatchNorm in train mode: the quantity L2RW and Meta-Weight-Net use."""

from __future__ import annotations

import pytest
import torch

from meta_problems import F64, bn_cnn, meta_batches, relative_error
from repro.meta import label_meta_gradient, sample_weight_meta_gradient
from testing_support.reference_meta import reference_meta_gradients


@pytest.mark.parametrize("weight_decay", [0.0, 5e-2])
@pytest.mark.parametrize("weights", [None, [0.0, 0.5, 1.0, 2.0, 1.5, 0.25]])
def test_weight_gradient_equals_double_backward_reference(weight_decay, weights):
    model = bn_cnn()
    assert model.training
    x, _, p, x_meta, y_meta = meta_batches()
    w = None if weights is None else torch.tensor(weights, dtype=F64)
    ours = sample_weight_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay, sample_weight=w)
    _, reference = reference_meta_gradients(
        model, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay, sample_weight=w
    )
    assert ours.shape == (6,)
    assert reference.abs().max() > 1e-4  # not a comparison between zeros
    assert relative_error(ours, reference) < 1e-6


def test_weight_gradient_at_zero_weights_is_l2rw_s_probe():
    # L2RW evaluates dL_meta/deps at eps = 0: theta' = theta (up to decay), and the gradient is still exact.
    model = bn_cnn()
    x, _, p, x_meta, y_meta = meta_batches()
    zeros = torch.zeros(6, dtype=F64)
    ours = sample_weight_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, sample_weight=zeros)
    _, reference = reference_meta_gradients(model, x, p, x_meta, y_meta, lr=0.3, sample_weight=zeros)
    assert relative_error(ours, reference) < 1e-6


def test_weight_and_label_gradients_agree_through_linearity():
    # dL/dw_i = sum_k p_ik dL/dp_ik / w_i: both read the same JVP, so they must agree row by row.
    model = bn_cnn()
    x, _, p, x_meta, y_meta = meta_batches()
    w = torch.tensor([0.5, 0.5, 1.0, 2.0, 1.5, 0.25], dtype=F64)
    grad_p = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, sample_weight=w)
    grad_w = sample_weight_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, sample_weight=w)
    torch.testing.assert_close(grad_w, (p * grad_p).sum(1) / w, rtol=1e-10, atol=1e-14)
