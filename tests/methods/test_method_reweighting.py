"""L2RW and Meta-Weight-Net: their rules on hand-made cases, their meta-gradients through the shared engine against
create_graph double-backward references (float64, BatchNorm in train mode), resume == uninterrupted, complete noisy
digits runs with the weight keys, bad options refused, a NaN weighting net failing the run."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch.func import functional_call

from meta_problems import F64, NUM_CLASSES, bn_cnn, meta_batches, relative_error
from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.meta import LookAhead, MetaBatch
from repro.meta.weight_stats import WeightStats
from repro.methods import check_method_options
from repro.methods.l2rw import L2RW, l2rw_step, l2rw_weights
from repro.methods.mwnet import MetaWeightNet, Weighting, WeightingNet, weighting_net_backward
from repro.runs.rundir import RunDir
from repro.train import train
from repro.training.hardware import Hardware
from resume_check import assert_resume_equals_uninterrupted
from testing_support.reference_meta import reference_meta_gradients

WEIGHT_KEYS = (
    "weight_mean_noisy",
    "weight_mean_clean",
    "weight_share_noisy",
    "weight_hist_noisy",
    "weight_hist_clean",
    "weight_hist_edges",
)


def _noisy_run(tmp_path, method: str, *extra: str):
    return load_config(
        [
            f"method={method}",
            "split=noisy",
            "noise=uniform",
            "noise.fraction=0.4",
            "data.subset=300",
            "optim.epochs=2",
            *QUIET,
            f"output_root={tmp_path}",
            *extra,
        ]
    )


# ------------------------------------------------------------------------------------------------ L2RW


def test_l2rw_rule_clips_and_normalises():
    g = torch.tensor([-0.2, 0.1, -0.6, 0.0], dtype=F64)
    torch.testing.assert_close(l2rw_weights(g), torch.tensor([0.25, 0.0, 0.75, 0.0], dtype=F64))
    # No sample whose up-weighting lowers the meta loss: all weights zero, as in their algorithm.
    assert torch.equal(l2rw_weights(torch.tensor([0.3, 0.0, 1e-3], dtype=F64)), torch.zeros(3, dtype=F64))


@pytest.mark.parametrize("weight_decay", [0.0, 5e-2])
def test_l2rw_weights_equal_the_double_backward_reference(weight_decay):
    model = bn_cnn()
    x, y, _, x_meta, y_meta = meta_batches()
    p = F.one_hot(y, NUM_CLASSES).to(F64)
    zeros = torch.zeros(len(y), dtype=F64)
    _, grad_w = reference_meta_gradients(
        model, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay, sample_weight=zeros
    )
    reference = l2rw_weights(grad_w)
    _, ours = l2rw_step(
        copy.deepcopy(model), x, y, MetaBatch(x_meta, y_meta), LookAhead(0.3, weight_decay), NUM_CLASSES
    )
    assert 0 < int((reference > 0).sum()) < len(y)  # some clipped, some kept: not a trivial comparison
    assert relative_error(ours, reference) < 1e-6


@pytest.mark.parametrize("lookahead_decay", [False, True])
def test_l2rw_authors_meta_cost_equals_the_double_backward_reference(lookahead_decay):
    """Ren et al.'s meta cost carries the L2 term: L_meta + (wd / 2) ||theta'||^2, with weight decay on."""
    wd = 5e-2
    model = bn_cnn()
    x, y, _, x_meta, y_meta = meta_batches()
    p = F.one_hot(y, NUM_CLASSES).to(F64)
    zeros = torch.zeros(len(y), dtype=F64)
    lookahead = wd if lookahead_decay else 0.0
    _, grad_w = reference_meta_gradients(
        model, x, p, x_meta, y_meta, lr=0.3, weight_decay=lookahead, sample_weight=zeros, meta_cost_decay=wd
    )
    reference = l2rw_weights(grad_w)
    meta = MetaBatch(x_meta, y_meta)
    _, ours = l2rw_step(copy.deepcopy(model), x, y, meta, LookAhead(0.3, lookahead, meta_cost_decay=wd), NUM_CLASSES)
    assert 0 < int((reference > 0).sum()) < len(y)
    assert relative_error(ours, reference) < 1e-6
    _, plain = l2rw_step(copy.deepcopy(model), x, y, meta, LookAhead(0.3, lookahead), NUM_CLASSES)
    assert relative_error(plain, reference) > 1e-4  # the two meta costs give measurably different weights


def test_l2rw_authors_weights_follow_their_inner_product():
    """Their code's rule written out: w_i ~ max(<grad CE_i(theta), grad L_meta(theta) + wd * theta>, 0)."""
    wd = 5e-2
    model = bn_cnn()
    x, y, _, x_meta, y_meta = meta_batches()
    params = [q for q in model.parameters() if q.requires_grad]
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    meta = torch.autograd.grad(F.cross_entropy(functional_call(model, buffers, (x_meta,)), y_meta), params)
    target = [g + wd * q.detach() for g, q in zip(meta, params)]
    per_sample = F.cross_entropy(
        functional_call(model, {n: b.clone() for n, b in model.named_buffers()}, (x,)), y, reduction="none"
    )
    dots = torch.stack(
        [
            sum((g * t).sum() for g, t in zip(torch.autograd.grad(per_sample[i], params, retain_graph=True), target))
            for i in range(len(y))
        ]
    )
    theirs = dots.clamp_min(0) / dots.clamp_min(0).sum()
    meta, step = MetaBatch(x_meta, y_meta), LookAhead(0.3, 0.0, meta_cost_decay=wd)
    _, ours = l2rw_step(copy.deepcopy(model), x, y, meta, step, NUM_CLASSES)
    assert relative_error(ours, theirs) < 1e-6


@pytest.mark.parametrize("flag", [True, False])
def test_l2rw_passes_the_optimizers_weight_decay_to_the_meta_cost(tmp_path, monkeypatch, flag):
    import repro.methods.l2rw as module
    from repro.train import build_experiment

    cfg = _noisy_run(tmp_path, "l2rw", "optim.weight_decay=0.05", f"method.meta_cost_weight_decay={flag}")
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    exp.set_epoch(0)
    seen = []
    real = module.l2rw_step
    monkeypatch.setattr(module, "l2rw_step", lambda *a: (seen.append(a[4].meta_cost_decay), real(*a))[1])
    x, y, idx = next(iter(exp.batches.train))
    device = exp.hardware.device
    x, y, idx = exp.hardware.prepare_batch(x), y.to(device), idx.to(device)  # as the loop moves a batch
    exp.method.train_step(exp, x, y, idx)
    assert seen == [0.05 if flag else 0.0]
    assert load_config(["method=l2rw"]).method.meta_cost_weight_decay is True  # the authors' form by default


# ------------------------------------------------------------------------------------------------ Meta-Weight-Net


def _reference_phi_gradient(model, vnet, x, p, x_meta, y_meta, *, lr, weight_decay, normalize):
    """Their way: w = V(loss.detach()) enters L_train, a create_graph look-ahead, L_meta at theta' back to phi."""
    names = [n for n, q in model.named_parameters() if q.requires_grad]
    params = [q for q in model.parameters() if q.requires_grad]
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    loss = -(p * F.log_softmax(functional_call(model, buffers, (x,)), dim=1)).sum(dim=1)
    v = vnet(loss.detach().unsqueeze(1)).squeeze(1)
    w = v / v.sum() * len(v) if normalize else v
    grads = torch.autograd.grad((w * loss).mean(), params, create_graph=True)
    theta_new = {n: q - lr * (g + weight_decay * q) for n, q, g in zip(names, params, grads)}
    meta_logits = functional_call(model, {**theta_new, **{n: b.clone() for n, b in model.named_buffers()}}, (x_meta,))
    return torch.autograd.grad(F.cross_entropy(meta_logits, y_meta), list(vnet.parameters()))


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("weight_decay", [0.0, 5e-2])
def test_mwnet_weighting_net_gradient_equals_the_double_backward_reference(normalize, weight_decay):
    model = bn_cnn()
    torch.manual_seed(3)
    vnet = WeightingNet(100).to(F64)
    x, y, _, x_meta, y_meta = meta_batches()
    p = F.one_hot(y, NUM_CLASSES).to(F64)
    reference = _reference_phi_gradient(
        model, vnet, x, p, x_meta, y_meta, lr=0.3, weight_decay=weight_decay, normalize=normalize
    )
    ours_net = copy.deepcopy(vnet)
    weighting = Weighting(ours_net, normalize)
    weighting_net_backward(
        copy.deepcopy(model), weighting, x, p, MetaBatch(x_meta, y_meta), LookAhead(0.3, weight_decay)
    )
    ours = torch.cat([q.grad.flatten() for q in ours_net.parameters()])
    ref = torch.cat([g.flatten() for g in reference])
    assert ref.abs().max() > 1e-8
    assert relative_error(ours, ref) < 1e-6


# ------------------------------------------------------------------------------------------------ records


def test_weight_stats_on_a_hand_made_epoch():
    stats = WeightStats(torch.tensor([False, True, False, True]), hist_max=4.0)
    stats.add(torch.tensor([0, 1]), torch.tensor([1.5, 0.5]))  # share 0.25
    stats.add(torch.tensor([2, 3]), torch.tensor([0.0, 0.0]))  # all zero: left out of the share
    stats.add(torch.tensor([3, 2]), torch.tensor([1.0, 5.0]))  # share 1/6; 5 > max: last bin
    row = stats.epoch_row()
    assert row["weight_mean_clean"] == pytest.approx((1.5 + 0.0 + 5.0) / 3)
    assert row["weight_mean_noisy"] == pytest.approx(0.5)
    assert row["weight_share_noisy"] == pytest.approx((0.25 + 1 / 6) / 2)
    assert row["weight_hist_edges"] == pytest.approx([0.4 * k for k in range(11)])
    assert row["weight_hist_clean"] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert row["weight_hist_noisy"] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert stats.epoch_row() == {}  # the next epoch starts empty

    clean_run = WeightStats(torch.zeros(3, dtype=torch.bool), hist_max=1.0)
    clean_run.add(torch.tensor([0, 1, 2]), torch.tensor([0.2, 0.4, 0.9]))
    row = clean_run.epoch_row()
    assert math.isnan(row["weight_mean_noisy"]) and math.isnan(row["weight_share_noisy"])
    assert "weight_hist_noisy" not in row and sum(row["weight_hist_clean"]) == 3


# ------------------------------------------------------------------------------------------------ runs


@pytest.mark.parametrize("method", ["l2rw", "mwnet"])
@pytest.mark.slow
def test_noisy_run_is_complete_and_resume_equals_uninterrupted(tmp_path, method):
    overrides = [f"method={method}", "split=noisy", "noise=uniform", "noise.fraction=0.4", "data.subset=300"]
    # the uninterrupted run the resume is compared with is the run whose records are checked: trained once
    whole, tensors = assert_resume_equals_uninterrupted([*overrides, "optim.epochs=2", *QUIET], tmp_path)
    rows = whole.run_dir.read_metrics()
    assert whole.run_dir.read_status()["state"] == "done" and whole.run_dir.is_done() and len(rows) == 2
    for row in rows:
        assert all(key in row for key in WEIGHT_KEYS), sorted(row)
        assert sum(row["weight_hist_noisy"]) + sum(row["weight_hist_clean"]) == whole.summary["num_train"]
        assert 0 <= row["weight_share_noisy"] <= 1
    if method == "mwnet":
        assert len(rows[-1]["mwnet_curve"]) == len(rows[-1]["mwnet_curve_losses"])
    assert any(k.startswith("/method/vnet") for k in tensors) == (method == "mwnet")


@pytest.mark.parametrize(
    "overrides, needle",
    [
        (["method=mwnet", "method.meta_lr=-1"], "method.meta_lr"),
        (["method=mwnet", "method.meta_optimizer=rmsprop"], "method.meta_optimizer"),
        (["method=l2rw", "method.lookahead_weight_decay=maybe"], "method.lookahead_weight_decay"),
        (["method=l2rw", "method.meta_batch_size=0"], "method.meta_batch_size"),
        (["method=l2rw", "method.meta_cost_weight_decay=sometimes"], "method.meta_cost_weight_decay"),
        (["method=l2rw", "+method.foo=1"], "method.foo"),
        (["method=mwnet", "+method.foo=1"], "method.foo"),
    ],
)
def test_bad_options_are_refused_with_a_clear_error(tmp_path, capsys, overrides, needle):
    code = main(
        [
            "train",
            *overrides,
            "split=noisy",
            "optim.epochs=1",
            *QUIET,
            f"output_root={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused at config load (Method.check), before any run directory


def _node(name: str) -> dict:
    return OmegaConf.to_container(load_config([f"method={name}", "split=noisy"]).method)


def test_the_option_declarations_refuse_before_any_work():
    with pytest.raises(UserError, match="meta_lr"):
        check_method_options(MetaWeightNet.declaration, {"name": "mwnet", **_node("mwnet"), "meta_lr": -1})
    with pytest.raises(UserError, match="lookahead_weight_decay"):
        check_method_options(L2RW.declaration, {**_node("l2rw"), "lookahead_weight_decay": 3})
    check_method_options(MetaWeightNet.declaration, _node("mwnet"))
    check_method_options(L2RW.declaration, _node("l2rw"))


def test_nan_in_the_weighting_net_fails_the_run_like_a_nan_loss(tmp_path, capsys, monkeypatch):
    import repro.methods.mwnet as mwnet

    real, calls = mwnet.weighting_net_backward, {"n": 0}

    def poisoned(model, weighting, *args, **kwargs):
        out = real(model, weighting, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] > 6:  # past the first epoch (5 steps of 64 on ~294 training samples)
            next(weighting.net.parameters()).grad.fill_(float("nan"))
        return out

    monkeypatch.setattr(mwnet, "weighting_net_backward", poisoned)
    cfg = _noisy_run(tmp_path, "mwnet")
    # On the CPU the weighting net's own check names it; on a GPU that check would be a host sync per step, so the
    # NaN weights reach the loss and the loop's running totals stop the run naming the loss (repro/methods/base.py).
    on_gpu = Hardware.from_config(to_container(cfg)).device.type == "cuda"
    with pytest.raises(UserError, match="training loss became nan" if on_gpu else "weighting net"):
        train(cfg)
    rd = RunDir.for_config(to_container(cfg))
    assert rd.read_status()["state"] == "failed" and not rd.is_done()
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 1
