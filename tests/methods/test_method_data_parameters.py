"""Data parameters (repro/methods/data_parameters.py): the temperature-scaled loss and its gradient on
hand-computed cases, the authors' sparse momentum update, weight decay and clamping of the log-parameters, a NaN
temperature failing the run, resume == uninterrupted, a short noisy digits run, and bad options refused."""

from __future__ import annotations

import contextlib
import math
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from presets import QUIET, noisy_digits
from repo_paths import REPO
from repro.cli import main
from repro.config import load_config
from repro.errors import UserError
from repro.methods.base import NonFiniteLossError
from repro.methods.data_parameters import DataParameters, SparseMomentumSGD, log_decay, scaled_cross_entropy
from repro.tracking.tracker import NullTracker
from repro.train import train
from resume_check import assert_resume_equals_uninterrupted

FAST = ["method=data_parameters", *noisy_digits(meta_fraction=None, device=None)]
DEFAULTS = OmegaConf.to_container(OmegaConf.load(REPO / "repro" / "conf" / "method" / "data_parameters.yaml"))


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def method_cfg(**overrides):
    return OmegaConf.create({**DEFAULTS, **overrides})


def fake_exp(x_dim: int = 2, num_samples: int = 4, noisy=(True, False, False, False)):
    """The few Experiment fields the method reads; the model is the identity (logits = x) and never moves."""
    model = torch.nn.Linear(x_dim, x_dim, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.eye(x_dim))
    data = SimpleNamespace(
        num_classes=x_dim,
        train_targets=torch.ones(num_samples, dtype=torch.long),
        noisy_mask=torch.tensor(noisy),
        train_idx=torch.arange(num_samples),
    )
    return SimpleNamespace(
        model=model,
        optim=SimpleNamespace(optimizer=torch.optim.SGD(model.parameters(), lr=0.0)),
        epoch=0,
        hardware=SimpleNamespace(device=torch.device("cpu")),
        data=data,
    )


def make_method(exp, **overrides) -> DataParameters:
    cfg = method_cfg(**overrides)
    method = DataParameters(cfg, exp)
    method.log_class = torch.full_like(method.log_class, math.log(cfg.init_class), dtype=torch.float64)
    method.log_instance = torch.full_like(method.log_instance, math.log(cfg.init_instance), dtype=torch.float64)
    method.class_opt.values, method.class_opt.buf = method.log_class, method.class_opt.buf.double()
    method.instance_opt.values, method.instance_opt.buf = method.log_instance, method.instance_opt.buf.double()
    return method


def test_scaled_cross_entropy_on_a_hand_computed_case():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    y, sigma = torch.tensor([0, 1]), torch.tensor([2.0, 0.5], dtype=torch.float64)
    # scaled logits [1, 0] and [0, 2]: CE = softplus(-1) and softplus(-2)
    assert scaled_cross_entropy(logits, y, sigma).item() == pytest.approx((softplus(-1) + softplus(-2)) / 2, abs=1e-15)
    assert scaled_cross_entropy(logits, y, torch.ones(2, dtype=torch.float64)).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, y).item(), abs=1e-15
    )


def test_one_step_divides_by_the_sum_of_class_and_instance_temperatures_and_follows_their_gradient():
    exp = fake_exp()
    method = make_method(exp, learn_class=True, learn_instance=True)
    # two samples of class 1: A's logits favour class 0 (misfit, m = z_0 - z_1 = 1), B's fit (m = -2); sigma = 1 + 1
    x, y, idx = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64), torch.tensor([1, 1]), torch.tensor([2, 0])
    out = method.train_step(exp, x, y, idx)
    assert out.loss.item() == pytest.approx((softplus(0.5) + softplus(-1.0)) / 2, abs=1e-14)
    # d CE(softplus(m / s)) / d log s_inst = -sigmoid(m / s) * m / s^2 * s_inst, over n = 2
    g_a, g_b = -sigmoid(0.5) * 1 / 4 / 2, -sigmoid(-1.0) * -2 / 4 / 2
    assert g_a < 0 < g_b  # the misfit sample's temperature rises, the fitting one's falls
    expected_inst = torch.tensor([-0.2 * g_b, 0.0, -0.2 * g_a, 0.0], dtype=torch.float64)  # first step: buf = g
    torch.testing.assert_close(method.log_instance, expected_inst, rtol=0, atol=1e-15)
    torch.testing.assert_close(
        method.log_class, torch.tensor([0.0, -0.1 * (g_a + g_b)], dtype=torch.float64), rtol=0, atol=1e-15
    )
    assert method.class_opt.buf[0] == 0 and method.instance_opt.buf[1] == 0 and method.instance_opt.buf[3] == 0


def test_sparse_update_on_a_hand_computed_example():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    opt = SparseMomentumSGD(values, lr=0.1, momentum=0.9)
    opt.step(torch.tensor([0, 2]), torch.tensor([1.0, -2.0], dtype=torch.float64))
    torch.testing.assert_close(values, torch.tensor([0.9, 2.0, 3.2, 4.0], dtype=torch.float64), rtol=0, atol=1e-15)
    # row 0 waits: neither its value nor its momentum decays; row 2's buffer is 0.9 * -2 + 0.5 = -1.3
    # row 1's zero gradient in the batch is skipped, as in the authors' SparseSGD (its value and buffer stay)
    opt.step(torch.tensor([1, 2, 3]), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    torch.testing.assert_close(opt.buf, torch.tensor([1.0, 0.0, -1.3, 1.0], dtype=torch.float64), rtol=0, atol=1e-15)
    torch.testing.assert_close(values, torch.tensor([0.9, 2.0, 3.33, 3.9], dtype=torch.float64), rtol=0, atol=1e-15)


def test_sparse_update_equals_dense_sgd_with_zero_gradient_rows_reverted():
    """The authors' construction: a dense torch SGD (momentum 0.9) step, then rows with a zero gradient get their
    old value and momentum back. Ours touches only the batch's rows; both agree over many random batches."""
    gen = torch.Generator().manual_seed(0)
    ours = torch.randn(20, generator=gen, dtype=torch.float64)
    dense = torch.nn.Parameter(ours.clone())
    sparse, sgd = SparseMomentumSGD(ours, lr=0.2, momentum=0.9), torch.optim.SGD([dense], lr=0.2, momentum=0.9)
    for _ in range(30):
        rows = torch.randperm(20, generator=gen)[:6]
        grad = torch.randn(6, generator=gen, dtype=torch.float64)
        sparse.step(rows, grad)
        dense.grad = torch.zeros(20, dtype=torch.float64).index_put((rows,), grad)
        before = dense.detach().clone()
        buf_before = sgd.state[dense]["momentum_buffer"].clone() if sgd.state[dense] else None
        sgd.step()
        off = dense.grad == 0
        with torch.no_grad():
            dense[off] = before[off]
            if buf_before is not None:
                sgd.state[dense]["momentum_buffer"][off] = buf_before[off]
    torch.testing.assert_close(ours, dense.detach(), rtol=0, atol=1e-13)
    torch.testing.assert_close(sparse.buf, sgd.state[dense]["momentum_buffer"], rtol=0, atol=1e-13)


def test_weight_decay_acts_on_the_batch_log_parameters_only():
    log = torch.tensor([math.log(2), math.log(2), -math.log(4)])
    assert log_decay(log, 0.1).item() == pytest.approx(0.05 * (2 * math.log(2) ** 2 + math.log(4) ** 2), rel=1e-6)
    x, y, idx = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([1]), torch.tensor([1])
    moved = {}
    for wd in (0.0, 0.5):
        exp = fake_exp()
        method = make_method(exp, init_instance=2.0, wd_instance=wd)
        method.train_step(exp, x, y, idx)
        moved[wd] = method.log_instance.clone()
    # d/dlog s of 0.5 * wd * (log s)^2 is wd * log s: the row moves lr * wd * log 2 further down; others stay
    assert (moved[0.5][1] - moved[0.0][1]).item() == pytest.approx(-0.2 * 0.5 * math.log(2), abs=1e-14)
    assert torch.equal(moved[0.5][[0, 2, 3]], torch.full((3,), math.log(2), dtype=torch.float64))


def test_clamping_keeps_the_updated_rows_in_range():
    exp = fake_exp()
    method = make_method(exp, lr_instance=1e4)
    x, y = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64), torch.tensor([1, 1])
    method.train_step(exp, x, y, torch.tensor([0, 3]))
    lo, hi = math.log(0.05), math.log(20.0)
    assert method.log_instance[0].item() == pytest.approx(hi)  # the misfit sample: sigma up to 20
    assert method.log_instance[3].item() == pytest.approx(lo)  # the fitting one: down to 1/20
    assert method.log_instance[1] == 0 and method.log_instance[2] == 0
    unclamped = make_method(fake_exp(), lr_instance=1e4, clamp=False)
    unclamped.train_step(exp, x, y, torch.tensor([0, 3]))
    assert unclamped.log_instance[0] > hi and unclamped.log_instance[3] < lo


def test_a_nan_temperature_stops_the_step():
    exp = fake_exp()
    method = make_method(exp)
    method.instance_opt.lr = float("inf")
    with pytest.raises(NonFiniteLossError, match="instance data parameters"):
        method.train_step(exp, torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([1]), torch.tensor([0]))
    method = make_method(exp)
    method.log_instance[0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="training loss"):
        method.train_step(exp, torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([1]), torch.tensor([0]))


@pytest.mark.slow
def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    extra = ["method.learn_class=true", "method.wd_class=1e-3", "method.wd_instance=1e-3", "optim.epochs=3"]
    _, tensors = assert_resume_equals_uninterrupted([*FAST, *extra], tmp_path)
    assert tensors["/method/momentum_class"].abs().sum() > 0  # the class parameters did learn
    assert any(k.endswith("/momentum_buffer") for k in tensors)  # the model optimizer's state was compared too


def test_a_short_noisy_run_leaves_a_complete_run_directory(tmp_path, monkeypatch):
    logged: list[tuple[str, int, int]] = []

    class Tracker(NullTracker):  # records the histograms; every other call is the null tracker's
        def log_histogram(self, name, values, step=None):
            logged.append((name, len(values), step))

    monkeypatch.setattr("repro.train.make_tracker", lambda **k: Tracker())
    result = train(load_config([*FAST, "optim.epochs=2", "method.learn_class=true", f"output_root={tmp_path}"]))
    rd = result.run_dir
    assert {p.name for p in rd.path.iterdir()} >= {
        "config.yaml",
        "status.json",
        "metrics.jsonl",
        "summary.json",
        "checkpoint.pt",
        "train.log",
    }
    assert rd.read_status()["state"] == "done"
    rows = rd.read_metrics()
    keys = (
        "temperature_mean_noisy",
        "temperature_mean_clean",
        "class_temperature_mean",
        "effective_temperature_mean_noisy",
        "effective_temperature_mean_clean",
    )
    assert len(rows) == 2 and all(math.isfinite(r[k]) for r in rows for k in keys)
    assert rows[-1]["temperature_mean_noisy"] > rows[-1]["temperature_mean_clean"]  # noisy samples heat up
    assert result.summary["final_temperature_mean_noisy"] == rows[-1]["temperature_mean_noisy"]
    num_all = int(torch.load(rd.checkpoint_file, weights_only=True)["method"]["log_instance"].numel())
    names = {(name, step) for name, _, step in logged}
    assert names == {(f"temperatures/{k}", s) for k in ("noisy", "clean", "class") for s in (1, 2)}
    sizes = {name: size for name, size, _ in logged}
    assert sizes["temperatures/noisy"] + sizes["temperatures/clean"] == result.summary["num_train"] < num_all


def test_without_noise_the_noisy_keys_are_absent(tmp_path):
    cfg = load_config([*FAST[:2], "data.subset=300", *QUIET, "optim.epochs=1", f"output_root={tmp_path}"])
    row = train(cfg).run_dir.read_metrics()[0]
    assert "temperature_mean_noisy" not in row and math.isfinite(row["temperature_mean_clean"])


@pytest.mark.parametrize(
    "override, key",
    [
        ("method.lr_instance=-0.1", "method.lr_instance"),
        ("method.wd_class=-1", "method.wd_class"),
        ("method.momentum=1.0", "method.momentum"),
        ("method.init_instance=50", "method.init_instance"),
        ("method.learn_instance=false", "method.learn_instance"),
        ("method.learn_class=1", "method.learn_class"),
        ("method.sigma_min=30", "method.sigma_min"),
    ],
)
def test_bad_options_are_refused_with_a_message(override, key, tmp_path, capsys):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        load_config([*FAST, override])
    assert main(["train", *FAST, override, "optim.epochs=1", f"output_root={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err and "\n" not in err.strip()
    assert not (tmp_path / "runs").exists()  # refused at config load, before any work


def test_an_unknown_option_is_refused():
    with pytest.raises(UserError, match="method.label_lr"):
        load_config([*FAST, "+method.label_lr=3"])


def test_data_parameter_updates_stay_float32_under_bf16_autocast():
    # the identity model's logits are exact in bfloat16, so with float32 temperatures the updates agree
    x, y, idx = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.0]]), torch.tensor([1, 1, 0]), torch.tensor([2, 0, 3])
    tables = []
    for autocast in (contextlib.nullcontext, lambda: torch.autocast("cpu", dtype=torch.bfloat16)):
        exp = fake_exp()
        exp.model.float()
        method = DataParameters(method_cfg(learn_class=True, learn_instance=True), exp)
        with autocast():
            method.train_step(exp, x, y, idx)
        tables.append((method.log_class.clone(), method.log_instance.clone()))
    for want, got in zip(*tables):
        assert got.dtype == torch.float32 and bool((want != 0).any())
        torch.testing.assert_close(got, want, rtol=1e-6, atol=0)
