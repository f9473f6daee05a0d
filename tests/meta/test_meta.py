"""The forward-mode meta-gradient against the double-backward reference and finite differences (float64),
its side effects (none), and the meta step the training loop runs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from meta_problems import F64, NUM_CLASSES, bn_cnn, meta_batches, relative_error
from repro.errors import UserError
from repro.labels import ClassLabels, InstanceLabels, OneHotLabels
from repro.losses import soft_cross_entropy
from repro.meta import Batch, LookAhead, MetaBatch, label_meta_gradient, meta_label_step, sample_weight_meta_gradient
from repro.models import SIGNAL_MODELS, build_model
from testing_support.reference_meta import reference_label_meta_gradient, reference_sample_weight_meta_gradient


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


@pytest.mark.parametrize("weight_decay", [0.0, 5e-2])
@pytest.mark.parametrize("train_mode", [True, False])
def test_equals_double_backward_reference(weight_decay, train_mode):
    model = bn_cnn()
    model.train(train_mode)
    x, _, p, x_meta, y_meta = meta_batches()
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay)
    reference = reference_label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay)
    assert ours.shape == (6, NUM_CLASSES)
    assert relative_error(ours, reference) < 1e-6


def test_equals_reference_with_sample_weights():
    model = bn_cnn()
    x, _, p, x_meta, y_meta = meta_batches()
    weights = torch.tensor([0.0, 0.5, 1.0, 2.0, 1.5, 0.25], dtype=F64)
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=1e-2, sample_weight=weights)
    reference = reference_label_meta_gradient(
        model, x, p, x_meta, y_meta, lr=0.3, weight_decay=1e-2, sample_weight=weights
    )
    assert relative_error(ours, reference) < 1e-6
    assert ours[0].abs().max() == 0  # a zero-weight sample has no influence on theta'


def test_equals_reference_with_dropout_masks_replayed():
    model = bn_cnn(dropout=0.3)
    x, _, p, x_meta, y_meta = meta_batches()
    torch.manual_seed(5)
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3)
    after_ours = torch.get_rng_state()
    torch.manual_seed(5)
    reference = reference_label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3)
    assert relative_error(ours, reference) < 1e-6
    assert torch.equal(after_ours, torch.get_rng_state())  # same draws as the reference, none extra


def test_equals_reference_with_a_frozen_layer():
    model = bn_cnn()
    model[0].weight.requires_grad_(False)
    x, _, p, x_meta, y_meta = meta_batches()
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=1e-2)
    reference = reference_label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=1e-2)
    assert relative_error(ours, reference) < 1e-6


def _meta_loss_after_lookahead(model, x, p, x_meta, y_meta, lr, weight_decay) -> float:
    """L_meta(theta'(p)) evaluated directly (plain first-order autograd, cloned buffers)."""
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    train_loss = soft_cross_entropy(functional_call(model, buffers, (x,)), p)
    grads = torch.autograd.grad(train_loss, params)
    with torch.no_grad():
        theta = {n: q - lr * (g + weight_decay * q) for n, q, g in zip(names, params, grads)}
        meta_logits = functional_call(model, {**theta, **{n: b.clone() for n, b in model.named_buffers()}}, (x_meta,))
        return F.cross_entropy(meta_logits, y_meta).item()


@pytest.mark.parametrize("weight_decay", [0.0, 5e-2])
def test_equals_central_finite_differences(weight_decay):
    # Smooth activations, so that +-eps never crosses a ReLU kink. L_train is linear in p, so the only
    # truncation error is eps^2 * L_meta''' (measured: 1e-10 relative at eps = 1e-5, 1e-7 at eps = 1e-3);
    # round-off is ~1e-11.
    model = bn_cnn(activation=nn.Tanh)
    x, _, p, x_meta, y_meta = meta_batches()
    lr, eps = 0.5, 1e-5
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=lr, weight_decay=weight_decay)
    for i, k in [(0, 0), (1, 3), (4, 2), (5, 4)]:
        plus, minus = p.clone(), p.clone()
        plus[i, k] += eps
        minus[i, k] -= eps
        numeric = (
            _meta_loss_after_lookahead(model, x, plus, x_meta, y_meta, lr, weight_decay)
            - _meta_loss_after_lookahead(model, x, minus, x_meta, y_meta, lr, weight_decay)
        ) / (2 * eps)
        assert ours[i, k].item() == pytest.approx(numeric, rel=1e-8, abs=1e-12)
    assert ours.abs().max() > 1e-4  # the comparison is not between zeros


@pytest.mark.parametrize("meta_gradient", [label_meta_gradient, sample_weight_meta_gradient])
def test_leaves_parameters_buffers_and_grads_unchanged(meta_gradient):
    model = bn_cnn()
    before = _snapshot(model)
    x, _, p, x_meta, y_meta = meta_batches()
    meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, weight_decay=1e-2)
    after = model.state_dict()
    assert before.keys() == after.keys() and any("num_batches_tracked" in k for k in before)
    for name, tensor in before.items():
        assert torch.equal(tensor, after[name]), name
    assert all(q.grad is None for q in model.parameters())
    assert model.training


def test_rejects_bad_inputs():
    model = bn_cnn()
    x, _, p, x_meta, y_meta = meta_batches()
    with pytest.raises(UserError, match="disagree on the classes"):
        label_meta_gradient(model, x, p[:, :3], x_meta, y_meta, lr=0.3)
    with pytest.raises(UserError, match="learning rate"):
        label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.0)
    with pytest.raises(UserError, match="weight decay"):
        label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=-1.0)
    with pytest.raises(UserError, match="Per-sample weights"):
        label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, sample_weight=torch.ones(3, dtype=F64))


def _instance_labels(y: torch.Tensor) -> InstanceLabels:
    targets = torch.cat([y, y[:3]])  # 9 samples; the batch uses 6 of them
    return InstanceLabels(9, NUM_CLASSES, targets, init_target_prob=0.6, lr=40.0, dtype=F64)


@pytest.mark.parametrize("kind", ["instance", "class"])
@pytest.mark.parametrize("weighted", [False, True])
def test_meta_label_step_matches_reference_step(kind, weighted):
    x, y, _, x_meta, y_meta = meta_batches()
    idx = torch.tensor([8, 1, 0, 3, 5, 2])
    weights = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.0, 1.5], dtype=F64) if weighted else None
    if kind == "instance":
        make_labels = lambda: _instance_labels(y)  # noqa: E731
    else:
        make_labels = lambda: ClassLabels(NUM_CLASSES, 0.6, 3.0, dtype=F64)  # noqa: E731
    lr, weight_decay = 0.3, 1e-2

    model, labels = bn_cnn(), make_labels()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    step = LookAhead(lr, weight_decay)
    logits, p_new = meta_label_step(model, labels, Batch(x, y, idx), MetaBatch(x_meta, y_meta), step, weights)
    soft_cross_entropy(logits, p_new, weights).backward()
    optimizer.step()

    ref_model, ref_labels = bn_cnn(), make_labels()
    ref_optimizer = torch.optim.SGD(ref_model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    p = ref_labels.soft_labels(idx, y)
    grad_p = reference_label_meta_gradient(
        ref_model, x, p, x_meta, y_meta, lr=lr, weight_decay=weight_decay, sample_weight=weights
    )
    ref_labels.apply_meta_gradient(idx, y, grad_p)
    ref_p_new = ref_labels.soft_labels(idx, y)
    soft_cross_entropy(ref_model(x), ref_p_new, weights).backward()  # one plain step with p_new
    ref_optimizer.step()

    assert not torch.allclose(p_new, p)  # the labels did move
    assert torch.allclose(p_new, ref_p_new, rtol=1e-9, atol=1e-12)
    after, ref_after = model.state_dict(), ref_model.state_dict()
    for name, tensor in ref_after.items():  # parameters and running stats (one real forward each)
        assert torch.allclose(after[name], tensor, rtol=1e-9, atol=1e-12), name
    assert int(after["1.num_batches_tracked"]) == 1


def test_meta_label_step_with_fixed_labels_is_a_plain_forward():
    model = bn_cnn()
    x, y, _, x_meta, y_meta = meta_batches()
    labels = OneHotLabels(NUM_CLASSES, dtype=F64)
    batch, meta = Batch(x, y, torch.arange(6)), MetaBatch(x_meta, y_meta)
    logits, p = meta_label_step(model, labels, batch, meta, LookAhead(0.3))
    assert torch.equal(p, F.one_hot(y, NUM_CLASSES).to(F64))
    assert logits.requires_grad and int(model.state_dict()["1.num_batches_tracked"]) == 1


@pytest.mark.slow
def test_compiled_jvp_matches_eager():
    """Through torch.compile the JVP gives the eager meta-gradient. On a BatchNorm MLP, not the convnet above: each
    fused kernel Inductor emits is a C++ compile of 2-3 CPU-s, and the MLP's graph (BatchNorm in train mode, whose
    batch statistics carry tangents, between two linear layers) has half the convnet's kernels. Convolutions under
    the compiled JVP: tests/training/test_hardware.py (bf16, channels_last) and tests/meta/test_compile_cache.py."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, NUM_CLASSES))
    model = model.to(F64)
    x, _, p, x_meta, y_meta = meta_batches()
    eager = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3)
    compiled = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.3, compile_jvp=True)
    assert relative_error(compiled, eager) < 1e-6


@pytest.mark.parametrize("name", sorted(SIGNAL_MODELS))
@pytest.mark.parametrize("train_mode", [True, False])
def test_the_1d_networks_meta_gradients_equal_the_double_backward_reference(name, train_mode):
    """MNIST-1D's networks, as the registry builds them (the CNN with BatchNorm1d), on signals [N, 1, 1, length]:
    the label and the sample-weight meta-gradients equal the reference."""
    torch.manual_seed(0)
    model = build_model(name, num_classes=NUM_CLASSES, in_channels=1, image_size=12).to(F64).train(train_mode)
    gen = torch.Generator().manual_seed(1)
    x, x_meta = (torch.randn(n, 1, 1, 12, generator=gen, dtype=F64) for n in (6, 10))
    p = torch.softmax(2 * torch.randn(6, NUM_CLASSES, generator=gen, dtype=F64), dim=1)
    y_meta = torch.randint(0, NUM_CLASSES, (10,), generator=gen)
    kwargs = dict(lr=0.3, weight_decay=1e-2)
    labels = label_meta_gradient(model, x, p, x_meta, y_meta, **kwargs)
    assert relative_error(labels, reference_label_meta_gradient(model, x, p, x_meta, y_meta, **kwargs)) < 1e-6
    weights = sample_weight_meta_gradient(model, x, p, x_meta, y_meta, **kwargs)
    reference = reference_sample_weight_meta_gradient(model, x, p, x_meta, y_meta, **kwargs)
    assert relative_error(weights, reference) < 1e-6
