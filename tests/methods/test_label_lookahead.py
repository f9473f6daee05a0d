"""The label methods' meta step as configured: the look-ahead's weight decay (Eq. 3's plain
SGD by default, `method.lookahead_weight_decay=true` for theta - lr * (g + wd * theta)) and the entropy curriculum's
sign and placement, each checked against the create_graph double-backward reference on a real experiment's step;
the replay run names its fold runs' look-ahead form."""

from __future__ import annotations

import copy

import pytest
import torch

from presets import QUIET, noisy_split
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.labels.fold_runs import fold_run_configs
from repro.methods.curriculum import curriculum_weights, entropy_weights
from repro.runs.rundir import RunDir, run_id
from repro.train import build_experiment
from testing_support.reference_meta import reference_label_meta_gradient

RUN = ["data.subset=200", "optim.epochs=1", "optim.weight_decay=0.05", *QUIET, "device=cpu"]
NOISY = noisy_split(meta_fraction=0.2)


def _step_gradient(tmp_path, *overrides: str):
    """Run one real train_step of the configured method; return (the label meta-gradient it applied, the reference
    double-backward gradient for weight decay wd and for 0, given that step's inputs and look-ahead weights)."""
    cfg = load_config([*RUN, *overrides, f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    exp.set_epoch(0)
    x, y, idx = next(iter(exp.batches.train))
    meta = exp.batches.next_meta()
    x_meta, y_meta = meta
    exp.batches.next_meta = lambda: meta
    labels, model_before = exp.method.labels, copy.deepcopy(exp.model)
    p = labels.soft_labels(idx, y).detach().clone()
    seen = {}
    apply = labels.apply_meta_gradient
    labels.apply_meta_gradient = lambda i, t, g: (seen.setdefault("grad", g.clone()), apply(i, t, g))[1]

    import repro.methods.learned_labels as module

    calls = []
    real_step = module.meta_label_step
    module_step = lambda *a, **k: (calls.append(k.get("sample_weight")), real_step(*a, **k))[1]  # noqa: E731
    module.meta_label_step = module_step
    try:
        exp.method.train_step(exp, x, y, idx)
    finally:
        module.meta_label_step = real_step
    weight = calls[0]
    refs = {
        wd: reference_label_meta_gradient(
            model_before, x, p, x_meta, y_meta, lr=exp.optim.lr, weight_decay=wd, sample_weight=weight
        )
        for wd in (exp.optim.weight_decay, 0.0)
    }
    return seen["grad"], refs, weight, p


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return float((a - b).norm() / b.norm()) < 1e-4


@pytest.mark.parametrize("method", ["instance_labels", "class_labels"])
@pytest.mark.parametrize("decay", [False, True])
def test_the_lookahead_follows_eq3_or_adds_weight_decay(tmp_path, method, decay):
    grad, refs, _, _ = _step_gradient(tmp_path, f"method={method}", f"method.lookahead_weight_decay={decay}")
    wd = 0.05
    assert _close(grad, refs[wd if decay else 0.0])
    assert not _close(grad, refs[0.0 if decay else wd])  # the two forms differ measurably at this decay


@pytest.mark.slow
def test_eq3_is_the_default(tmp_path):
    assert load_config(["method=instance_labels"]).method.lookahead_weight_decay is False
    assert load_config(["method=class_labels"]).method.lookahead_weight_decay is False


@pytest.mark.parametrize("sign", ["certainty", "entropy"])
@pytest.mark.parametrize("placement", ["model_step", "both"])
def test_the_curriculum_weights_the_lookahead_only_when_placed_there(tmp_path, sign, placement):
    grad, refs, weight, p = _step_gradient(
        tmp_path,
        "method=instance_labels",
        "method.init_target_prob=0.5",
        "method.curriculum=entropy",
        f"method.curriculum_weight={sign}",
        f"method.curriculum_placement={placement}",
        *NOISY,
    )
    if placement == "model_step":
        assert weight is None
    else:  # the weights of the labels before the meta step, with the configured sign
        torch.testing.assert_close(weight, entropy_weights(p, sign))
    assert _close(grad, refs[0.0])


def test_the_two_signs_by_hand():
    labels = torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])
    # raw H / log 3: 0, 1 and log 2 / log 3 = 0.6309298; scaled to mean 1 (x 3 / 1.6309298)
    torch.testing.assert_close(entropy_weights(labels, "entropy"), torch.tensor([0.0, 1.8394449, 1.1605551]))
    torch.testing.assert_close(entropy_weights(torch.eye(3), "entropy"), torch.ones(3))  # all zero -> equal weights
    certain = entropy_weights(labels, "certainty")
    assert float(certain[0]) > float(certain[2]) > float(certain[1])
    with pytest.raises(UserError, match="curriculum_weight"):
        entropy_weights(labels, "negative")


def test_new_options_are_validated():
    for bad in (
        "method.curriculum_weight=rising",
        "method.curriculum_placement=lookahead",
        "method.lookahead_weight_decay=1",
    ):
        with pytest.raises(UserError, match=bad.split("=")[0]):
            load_config(["method=instance_labels", bad])


@pytest.mark.slow
def test_replay_names_its_fold_runs_lookahead_form():
    base = ["method=replay", "split=full"]
    eq3 = to_container(load_config(base))
    old = to_container(load_config([*base, "method.learn.lookahead_weight_decay=true"]))
    assert run_id(eq3) != run_id(old)
    assert all(c["method"]["lookahead_weight_decay"] is False for c in fold_run_configs(eq3))
    assert all(c["method"]["lookahead_weight_decay"] is True for c in fold_run_configs(old))
    # The fold runs are the label runs one trains directly (same ids as `repro train method=instance_labels ...`).
    fold0 = to_container(load_config(["method=instance_labels", "split=holdout", "split.fold=0"]))
    assert run_id(fold_run_configs(eq3)[0]) == run_id(fold0)
    clash = to_container(load_config([*base, 'method.learn.overrides=["method.lookahead_weight_decay=true"]']))
    with pytest.raises(UserError, match="method.learn.lookahead_weight_decay"):
        fold_run_configs(clash)
    agree = to_container(
        load_config(
            [
                *base,
                "method.learn.lookahead_weight_decay=true",
                'method.learn.overrides=["method.lookahead_weight_decay=true"]',
            ]
        )
    )
    assert all(c["method"]["lookahead_weight_decay"] is True for c in fold_run_configs(agree))


def test_class_labels_refuse_the_entropy_curriculum():
    from repro.labels import ClassLabels

    with pytest.raises(UserError, match="needs instance labels"):
        curriculum_weights("entropy", ClassLabels(3, init_target_prob=0.9, lr=0.1), torch.tensor([0]), "entropy")
