"""Label parametrisations: ranges, sparse updates, chain rules against autograd, validation, state."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F

from repro.errors import UserError
from repro.labels import (
    ClassLabels,
    InstanceLabels,
    NonFiniteLabelsError,
    OneHotLabels,
    ReplayLabels,
    SmoothedLabels,
    build_labels,
)

F64 = torch.float64


def _roundtrip(state: dict) -> dict:
    """Through torch.save / torch.load(weights_only=True), as checkpoints do."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_onehot_and_smoothed_labels():
    y = torch.tensor([1, 0])
    assert OneHotLabels(3).soft_labels(torch.tensor([5, 6]), y).tolist() == [[0, 1, 0], [1, 0, 0]]
    smoothed = SmoothedLabels(4, epsilon=0.2, dtype=F64).soft_labels(torch.tensor([0, 1]), y)
    assert torch.allclose(smoothed[0], torch.tensor([0.05, 0.85, 0.05, 0.05], dtype=F64))
    assert not OneHotLabels(3).learnable
    with pytest.raises(RuntimeError, match="no learnable"):
        OneHotLabels(3).apply_meta_gradient(torch.tensor([0]), torch.tensor([0]), torch.zeros(1, 3))


# ---------------------------------------------------------------- class labels


def test_class_labels_initial_values():
    labels = ClassLabels(num_classes=5, init_target_prob=0.6, lr=1.0, dtype=F64)
    p = labels.soft_labels(torch.tensor([0, 1]), torch.tensor([3, 0]))
    assert torch.allclose(p[0], torch.tensor([0.1, 0.1, 0.1, 0.6, 0.1], dtype=F64))
    assert torch.allclose(p[1], torch.tensor([0.6, 0.1, 0.1, 0.1, 0.1], dtype=F64))


def test_class_label_chain_rule_equals_autograd():
    torch.manual_seed(0)
    num_classes, labels = 4, ClassLabels(4, init_target_prob=0.7, lr=0.5, dtype=F64)
    labels.alpha = torch.tensor([0.1, 0.3, 0.5, 0.2], dtype=F64)
    y = torch.tensor([2, 0, 2, 3, 2])
    grad_p = torch.randn(5, num_classes, dtype=F64)
    # p built independently with torch.where, differentiated by autograd.
    alpha = labels.alpha.clone().requires_grad_()
    a = alpha[y].unsqueeze(1)
    is_target = F.one_hot(y, num_classes).bool()
    p = torch.where(is_target, 1 - a, a / (num_classes - 1))
    (p * grad_p).sum().backward()
    assert torch.allclose(labels.alpha_gradient(y, grad_p), alpha.grad, rtol=1e-12, atol=1e-12)
    assert labels.alpha_gradient(y, grad_p)[1] == 0  # class 1 is not in the batch
    expected = (labels.alpha - 0.5 * alpha.grad).clamp(0, 1)
    labels.apply_meta_gradient(torch.arange(5), y, grad_p)
    assert torch.allclose(labels.alpha, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_class_labels_stay_in_unit_interval_with_huge_lr(sign):
    labels = ClassLabels(3, init_target_prob=0.5, lr=1e6)
    y = torch.tensor([0, 1, 2])
    grad_p = sign * torch.tensor([[1.0, -1.0, 0.0], [0.0, 2.0, -2.0], [-3.0, 0.0, 3.0]])
    labels.apply_meta_gradient(torch.arange(3), y, grad_p)
    assert ((labels.alpha >= 0) & (labels.alpha <= 1)).all()
    assert set(labels.alpha.tolist()) <= {0.0, 1.0}  # each class was pushed to a bound
    p = labels.soft_labels(torch.arange(3), y)
    assert ((p >= 0) & (p <= 1)).all() and torch.allclose(p.sum(1), torch.ones(3))


def test_class_labels_nan_gradient_raises_and_keeps_last_values():
    labels = ClassLabels(3, init_target_prob=0.5, lr=1.0)
    before = labels.alpha.clone()
    with pytest.raises(NonFiniteLabelsError):
        labels.apply_meta_gradient(torch.tensor([0]), torch.tensor([1]), torch.tensor([[float("nan"), 0.0, 0.0]]))
    assert torch.equal(labels.alpha, before)
    assert issubclass(NonFiniteLabelsError, FloatingPointError)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_classes=5, init_target_prob=0.0, lr=1.0), "initial target probability"),
        (dict(num_classes=5, init_target_prob=1.2, lr=1.0), "initial target probability"),
        (dict(num_classes=5, init_target_prob=0.5, lr=0.0), "learning rate"),
        (dict(num_classes=5, init_target_prob=0.5, lr=-1.0), "learning rate"),
        (dict(num_classes=5, init_target_prob=0.5, lr=float("nan")), "learning rate"),
        (dict(num_classes=1, init_target_prob=0.5, lr=1.0), "at least 2 classes"),
    ],
)
def test_class_labels_validation(kwargs, match):
    with pytest.raises(UserError, match=match):
        ClassLabels(**kwargs)


def test_class_labels_accept_init_below_uniform_and_one():
    assert torch.allclose(ClassLabels(10, init_target_prob=0.05, lr=1.0).alpha, torch.full((10,), 0.95))
    assert torch.equal(ClassLabels(10, init_target_prob=1.0, lr=1.0).alpha, torch.zeros(10))


# ---------------------------------------------------------------- instance labels


def _instance_labels(lr: float = 2.0) -> InstanceLabels:
    targets = torch.tensor([0, 1, 2, 3, 1, 0, 2])
    return InstanceLabels(num_samples=7, num_classes=4, targets=targets, init_target_prob=0.7, lr=lr, dtype=F64)


def test_instance_labels_start_at_init():
    probs = _instance_labels().probabilities()
    assert torch.allclose(probs[3], torch.tensor([0.1, 0.1, 0.1, 0.7], dtype=F64), rtol=0, atol=1e-14)
    assert torch.allclose(probs.sum(1), torch.ones(7, dtype=F64))


def test_instance_label_chain_rule_equals_autograd_with_repeated_rows():
    torch.manual_seed(1)
    labels = _instance_labels()
    labels.logits += torch.randn(7, 4, dtype=F64)
    idx = torch.tensor([4, 1, 4, 6])  # sample 4 drawn twice: its steps add up
    grad_p = torch.randn(4, 4, dtype=F64)
    z = labels.logits.clone().requires_grad_()
    (F.softmax(z[idx], dim=1) * grad_p).sum().backward()
    assert torch.allclose(labels.logit_gradient(idx[[1, 3]], grad_p[[1, 3]]), z.grad[[1, 6]], rtol=1e-12, atol=1e-14)
    expected = labels.logits - 2.0 * z.grad
    labels.apply_meta_gradient(idx, torch.zeros(4, dtype=torch.long), grad_p)
    assert torch.allclose(labels.logits, expected, rtol=1e-13, atol=1e-14)


def test_instance_updates_are_sparse_and_rows_stay_on_simplex():
    torch.manual_seed(2)
    labels = _instance_labels(lr=1e4)
    before = labels.logits.clone()
    idx = torch.tensor([2, 5])
    labels.apply_meta_gradient(idx, torch.tensor([2, 0]), torch.randn(2, 4, dtype=F64))
    untouched = torch.tensor([0, 1, 3, 4, 6])
    assert torch.equal(labels.logits[untouched], before[untouched])
    assert not torch.equal(labels.logits[idx], before[idx])
    p = labels.soft_labels(idx, torch.tensor([2, 0]))
    assert (p >= 0).all() and torch.allclose(p.sum(1), torch.ones(2, dtype=F64))


def test_instance_labels_nan_gradient_raises_and_keeps_rows():
    labels = _instance_labels()
    before = labels.logits.clone()
    bad = torch.zeros(1, 4, dtype=F64)
    bad[0, 2] = float("inf")
    with pytest.raises(NonFiniteLabelsError):
        labels.apply_meta_gradient(torch.tensor([3]), torch.tensor([3]), bad)
    assert torch.equal(labels.logits, before)


@pytest.mark.parametrize(
    "init, targets, match",
    [
        (1.0, torch.zeros(7, dtype=torch.long), "strictly between 0 and 1"),
        (0.0, torch.zeros(7, dtype=torch.long), "strictly between 0 and 1"),
        (0.5, torch.zeros(6, dtype=torch.long), "one target per training sample"),
    ],
)
def test_instance_labels_validation(init, targets, match):
    with pytest.raises(UserError, match=match):
        InstanceLabels(num_samples=7, num_classes=4, targets=targets, init_target_prob=init, lr=1.0)


# ---------------------------------------------------------------- state and replay


def test_learnable_state_dict_round_trip():
    torch.manual_seed(3)
    idx, y = torch.tensor([0, 3, 5]), torch.tensor([0, 3, 0])
    for make in (lambda: ClassLabels(4, 0.7, 0.5, dtype=F64), _instance_labels):
        trained = make()
        trained.apply_meta_gradient(idx, y, torch.randn(3, 4, dtype=F64))
        fresh = make()
        assert not torch.equal(fresh.soft_labels(idx, y), trained.soft_labels(idx, y))
        fresh.load_state_dict(_roundtrip(trained.state_dict()))
        assert torch.equal(fresh.soft_labels(idx, y), trained.soft_labels(idx, y))


def test_load_state_dict_rejects_other_shapes():
    with pytest.raises(UserError, match="another configuration"):
        ClassLabels(4, 0.7, 0.5).load_state_dict(ClassLabels(5, 0.7, 0.5).state_dict())
    with pytest.raises(UserError, match="another configuration"):
        _instance_labels().load_state_dict({"logits": torch.zeros(7, 5)})


def _trajectory(calls: list[int]):
    def labels_of_epoch(epoch: int) -> torch.Tensor:
        calls.append(epoch)
        return torch.full((6, 3), float(epoch)) / 3 + torch.arange(6.0).unsqueeze(1)

    return labels_of_epoch


def test_replay_serves_epoch_labels_and_caches_them():
    calls: list[int] = []
    replay = ReplayLabels(_trajectory(calls), num_epochs=4)
    idx = torch.tensor([5, 1])
    for epoch in (0, 2, 3):
        replay.set_epoch(epoch)
        expected = torch.tensor([[5.0 + epoch / 3] * 3, [1.0 + epoch / 3] * 3])
        assert torch.allclose(replay.soft_labels(idx, torch.tensor([0, 0])), expected)
        replay.soft_labels(idx, torch.tensor([0, 0]))
    assert calls == [0, 2, 3]
    with pytest.raises(UserError, match="epochs 0..3"):
        replay.set_epoch(4)


def test_static_replay_serves_last_epoch_throughout():
    calls: list[int] = []
    replay = ReplayLabels(_trajectory(calls), num_epochs=4, static=True)
    for epoch in (0, 1, 7):
        replay.set_epoch(epoch)
        assert torch.allclose(replay.soft_labels(torch.tensor([0]), torch.tensor([0])), torch.full((1, 3), 1.0))
    assert calls == [3]


def test_replay_state_round_trip_and_bad_trajectory():
    replay = ReplayLabels(_trajectory([]), num_epochs=4)
    replay.set_epoch(2)
    restored = ReplayLabels(_trajectory([]), num_epochs=4)
    restored.load_state_dict(_roundtrip(replay.state_dict()))
    assert restored.epoch == 2
    broken = ReplayLabels(lambda epoch: torch.full((2, 3), float("nan")), num_epochs=1)
    with pytest.raises(UserError, match="finite"):
        broken.soft_labels(torch.tensor([0]), torch.tensor([0]))


def test_build_labels_by_kind():
    targets = torch.tensor([0, 1, 2])
    common = dict(num_samples=3, num_classes=3, targets=targets)
    assert isinstance(build_labels("onehot", **common), OneHotLabels)
    assert build_labels("smoothing", epsilon=0.1, **common).epsilon == 0.1
    assert build_labels("class", init_target_prob=0.9, lr=0.1, **common).lr == 0.1
    instance = build_labels("instance", init_target_prob=0.9, lr=10.0, **common)
    assert instance.probabilities().shape == (3, 3)
    assert build_labels("replay", trajectory=_trajectory([]), num_epochs=2, static=True, **common).static
    with pytest.raises(UserError, match="Unknown label kind"):
        build_labels("teacher", **common)
    with pytest.raises(UserError, match="does not take"):
        build_labels("class", init_target_prob=0.9, lr=0.1, epsilon=0.1, **common)
    with pytest.raises(UserError, match="needs the option"):
        build_labels("instance", lr=0.1, **common)
