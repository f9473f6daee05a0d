"""Focal loss and co-teaching (Tables 6-7 baselines): the loss and the selection rule on hand-computed cases, the
forget-rate schedule against the authors' definition, option checks, resume, and a complete noisy digits run."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from presets import QUIET, noisy_digits
from repro.config import load_config
from repro.errors import UserError
from repro.methods import check_method_options
from repro.methods.coteaching import (
    CoTeaching,
    forget_rate_at,
    num_kept,
    resolved_forget_rate,
    small_loss_picks,
)
from repro.methods.focal_loss import FocalLoss, focal_loss
from repro.train import train
from repro.training.hardware import Hardware
from resume_check import assert_resume_equals_uninterrupted

NOISY = [*noisy_digits(meta_fraction=None, device=None), "optim.epochs=3"]


# -- focal loss ---------------------------------------------------------------------------------------------------


def test_focal_loss_with_gamma_zero_is_the_cross_entropy():
    logits, y = torch.randn(7, 5, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 4, 0, 1])
    assert torch.allclose(focal_loss(logits, y, 0.0), F.cross_entropy(logits, y), atol=1e-6)


def test_focal_loss_on_a_worked_two_sample_example():
    # Sample 1: logits (0, ln 3), label 1 -> q_y = 3/4; sample 2: logits (0, 0), label 0 -> q_y = 1/2.
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([1, 0])
    # gamma = 2: (1/4)^2 * ln(4/3) = 0.0179801, (1/2)^2 * ln 2 = 0.1732868; mean 0.0956335.
    assert focal_loss(logits, y, 2.0).item() == pytest.approx(0.5 * (0.0625 * 0.2876821 + 0.25 * 0.6931472), abs=1e-7)
    # gamma = 1: (1/4) * ln(4/3) = 0.0719205, (1/2) * ln 2 = 0.3465736; mean 0.2092471.
    assert focal_loss(logits, y, 1.0).item() == pytest.approx(0.2092471, abs=1e-7)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_loss_gradient_matches_finite_differences(gamma):
    logits = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    y = torch.tensor([0, 2, 1, 2])
    assert torch.autograd.gradcheck(lambda z: focal_loss(z, y, gamma), (logits,))


def test_focal_loss_down_weights_well_fitted_samples_and_stays_finite():
    # Analytic gradient w.r.t. the target logit, q = 3/4, gamma = 2:
    # d/dz_y [-(1-q)^g log q] = -(1-q)^g (1-q) + g (1-q)^(g-1) q(1-q) log q = -(1-q)^2 [(1-q) - g q log q].
    z = torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64, requires_grad=True)
    focal_loss(z, torch.tensor([1]), 2.0).backward()
    expected = -(0.25**2) * (0.25 - 2 * 0.75 * math.log(0.75))
    assert z.grad[0, 1].item() == pytest.approx(expected, rel=1e-9)
    assert abs(z.grad[0, 1].item()) < 0.25  # the cross-entropy's gradient there is q - 1 = -1/4
    # gamma < 1 with q = 1 in float32: (1 - q)^(gamma - 1) would be infinite; the loss keeps a finite gradient.
    sure = torch.tensor([[0.0, 200.0]], requires_grad=True)
    focal_loss(sure, torch.tensor([1]), 0.5).backward()
    assert torch.isfinite(sure.grad).all()


@pytest.mark.parametrize("gamma", [-1.0, float("nan"), "two", None])
def test_focal_loss_refuses_a_bad_gamma(gamma):
    with pytest.raises(UserError, match="method.gamma"):
        check_method_options(FocalLoss.declaration, {"name": "focal_loss", "gamma": gamma})


# -- co-teaching: schedule and selection -------------------------------------------------------------------------


@pytest.mark.parametrize("tau, num_gradual, exponent", [(0.4, 10, 1), (0.6, 5, 2.0), (0.2, 1, 1), (0.5, 0, 1)])
def test_forget_rate_follows_the_authors_rate_schedule(tau, num_gradual, exponent):
    epochs = 30
    schedule = np.ones(epochs) * tau  # bhanML/Co-teaching main.py
    schedule[:num_gradual] = np.linspace(0, tau**exponent, num_gradual)
    ours = [forget_rate_at(t, tau, num_gradual, exponent) for t in range(epochs)]
    assert np.allclose(ours, schedule, rtol=0, atol=1e-12)


def test_forget_rate_values_at_a_few_epochs():
    assert forget_rate_at(0, 0.4, 10, 1) == 0.0  # the first epoch keeps every sample
    assert forget_rate_at(1, 0.4, 10, 1) == pytest.approx(0.4 / 9)
    assert forget_rate_at(9, 0.4, 10, 1) == pytest.approx(0.4)  # reaches tau at t = T_k - 1, as linspace does
    assert forget_rate_at(57, 0.4, 10, 1) == 0.4


def test_number_kept_floors_like_their_code_without_float_noise():
    assert num_kept(0.4, 128) == 76  # int(0.6 * 128) = int(76.8)
    assert num_kept(0.9, 10) == 1  # (1 - 0.9) * 10 is 0.9999999999999998 in floats
    assert num_kept(0.0, 7) == 7
    assert num_kept(0.99, 5) == 1  # never an empty update


def test_each_network_picks_its_small_loss_samples():
    loss_1 = torch.tensor([0.1, 2.0, 0.3, 1.5, 0.2])
    loss_2 = torch.tensor([0.9, 0.1, 0.2, 3.0, 0.4])
    pick_1, pick_2 = small_loss_picks(loss_1, loss_2, 3)
    assert pick_1.tolist() == [0, 4, 2]
    assert pick_2.tolist() == [1, 2, 4]
    tie_1, _ = small_loss_picks(torch.tensor([0.5, 0.5, 0.1, 0.5]), loss_2[:4], 2)
    assert tie_1.tolist() == [2, 0]  # ties go to the earlier position


def _one_hot_input_net(z: list[float]) -> torch.nn.Linear:
    """Linear net on one-hot inputs: sample i gets logits (0, z_i), so with label 1 its loss is softplus(-z_i)."""
    net = torch.nn.Linear(len(z), 2, bias=False)
    with torch.no_grad():
        net.weight.zero_()
        net.weight[1] = torch.tensor(z)
    return net


def test_cross_update_trains_each_network_on_the_other_ones_picks():
    cfg = load_config(["method=coteaching", *NOISY, "output_root=/unused"])
    x, y, idx = torch.eye(5), torch.ones(5, dtype=torch.long), torch.arange(5)
    noisy = torch.tensor([False, True, False, True, False])
    z_1, z_2 = [3.0, -2.0, 1.0, -1.0, 2.0], [-1.0, 3.0, 2.0, -3.0, 1.0]  # net 1 keeps {0, 4, 2}; net 2 {1, 2, 4}
    net_1, net_2 = _one_hot_input_net(z_1), _one_hot_input_net(z_2)
    exp = SimpleNamespace(
        cfg=cfg,
        model=net_1,
        optim=SimpleNamespace(optimizer=torch.optim.SGD(net_1.parameters(), lr=0.5)),
        epoch=0,
        hardware=Hardware(torch.device("cpu")),
        data=SimpleNamespace(num_classes=2, noisy_mask=noisy, train_true_targets=y, train_targets=y, train_idx=idx),
    )
    method = CoTeaching(cfg.method, exp)
    method.model2, method.optimizer2 = net_2, torch.optim.SGD(net_2.parameters(), lr=0.5)
    method.rate = 0.4  # keep int(0.6 * 5) = 3

    def reference(z, picks):  # one plain SGD step of the cross-entropy on the given picks
        ref = _one_hot_input_net(z)
        F.cross_entropy(ref(x[picks]), y[picks]).backward()
        return ref.weight.detach() - 0.5 * ref.weight.grad

    out = method.train_step(exp, x, y, idx)
    assert torch.allclose(net_1.weight, reference(z_1, [1, 2, 4]))  # net 1 <- net 2's picks
    assert torch.allclose(net_2.weight, reference(z_2, [0, 2, 4]))  # net 2 <- net 1's picks
    softplus = lambda v: math.log1p(math.exp(-v))  # noqa: E731
    assert out.loss.item() == pytest.approx(sum(softplus(z_1[i]) for i in (1, 2, 4)) / 3, rel=1e-6)
    # Noisy share among the picks: net 1's {0, 2, 4} hold none, net 2's {1, 2, 4} one of three -> mean 1/6.
    assert method.epoch_stats() == pytest.approx({"selected_noisy_share": 1 / 6, "selected_fraction": 0.6})


# -- co-teaching: options, runs, resume ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, needle",
    [
        ("method.forget_rate=1.0", "method.forget_rate"),
        ("method.forget_rate=-0.1", "method.forget_rate"),
        ("method.num_gradual=-1", "method.num_gradual"),
        ("method.exponent=0", "method.exponent"),
    ],
)
def test_bad_coteaching_options_are_refused(tmp_path, override, needle):
    method = OmegaConf.create({"name": "coteaching", "forget_rate": None, "num_gradual": 10, "exponent": 1})
    key, _, value = override.partition("=")
    method[key.split(".")[1]] = float(value) if "." in value else int(value)
    with pytest.raises(UserError, match=needle):
        check_method_options(CoTeaching.declaration, method)
    with pytest.raises(UserError, match=needle):  # and a run refuses it (at config load once wired, else at build)
        train(load_config(["method=coteaching", *NOISY, f"output_root={tmp_path}", override]))


def test_forget_rate_null_means_the_actual_noise_rate():
    assert resolved_forget_rate(load_config(["method=coteaching", *NOISY])) == pytest.approx(0.4 * 9 / 10)
    assert resolved_forget_rate(load_config(["method=coteaching", "noise=none"])) == 0.0
    assert resolved_forget_rate(load_config(["method=coteaching", *NOISY, "method.forget_rate=0.25"])) == 0.25


@pytest.mark.parametrize("method", ["coteaching", "focal_loss"])
@pytest.mark.slow
def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path, method):
    extra = ["method.num_gradual=2"] if method == "coteaching" else []  # reach the full forget rate within 3 epochs
    _, tensors = assert_resume_equals_uninterrupted([f"method={method}", *NOISY, *extra], tmp_path)
    if method == "coteaching":
        assert any(k.startswith("/method/model2/") for k in tensors)
        assert any("/method/optimizer2/" in k for k in tensors)


@pytest.mark.slow
def test_noisy_coteaching_run_leaves_a_complete_run_directory(tmp_path):
    rd = train(load_config(["method=coteaching", *NOISY, "method.num_gradual=2", f"output_root={tmp_path}"])).run_dir
    assert rd.read_status()["state"] == "done"
    for f in (rd.config_file, rd.checkpoint_file):
        assert f.exists()
    rows = rd.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert [r["forget_rate"] for r in rows] == pytest.approx([0.0, 0.36, 0.36])  # the actual rate of 40% uniform
    assert [r["selected_fraction"] for r in rows][0] == 1.0 and rows[-1]["selected_fraction"] < 0.65
    for r in rows:
        assert 0.0 <= r["selected_noisy_share"] <= 1.0 and 0.0 <= r["test_acc_net2"] <= 1.0
        assert {"train_loss", "train_acc", "val_acc", "test_acc"} <= r.keys()
    # The first epoch keeps everything, so its noisy share is the training part's noise share (~0.36 at 40%).
    assert rows[0]["selected_noisy_share"] == pytest.approx(0.36, abs=0.08)
    assert rd.read_summary()["final_test_acc"] == rows[-1]["test_acc"]


def test_coteaching_without_noise_reports_nan_noisy_share(tmp_path):
    rd = train(
        load_config(
            [
                "method=coteaching",
                "noise=none",
                "data.subset=300",
                "optim.epochs=1",
                *QUIET,
                f"output_root={tmp_path}",
            ]
        )
    ).run_dir
    row = rd.read_metrics()[0]
    assert math.isnan(row["selected_noisy_share"]) and row["selected_fraction"] == 1.0 and row["forget_rate"] == 0.0
