"""Label smearing (Lukasik et al., ICML 2020, Sec. 3) in float64: backward correction under symmetric noise is
smearing with T^-1, which is negative label smoothing; the members against the suite's other losses; negative
smoothing is unbounded below; CLI runs on noisy digits and refusals."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

import presets
from repro.cli import main
from repro.conf.resolvers import PATRINI_CLIP
from repro.data.noise import transition_matrix
from repro.losses import smoothed_targets, soft_cross_entropy
from repro.methods.label_smearing import backward_epsilon, smeared_loss, smoothing_matrix
from repro.methods.loss_correction import backward_corrected_loss

NOISY = [*presets.NOISY, "optim.epochs=1"]
F64 = torch.float64


def _batch(c: int, n: int = 8, seed: int = 0, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, c, generator=g, dtype=F64), torch.randint(0, c, (n,), generator=g)


def _symmetric_t(c: int, f: float) -> torch.Tensor:
    """The suite's uniform-noise T, from its noise model (not rebuilt here): (1 - f) I + f/C J."""
    noise = OmegaConf.create({"kind": "uniform", "fraction": f, "seed": 0})
    return transition_matrix(noise, c, dtype=F64)


@pytest.mark.parametrize("c, f", [(10, 0.4), (10, 0.2), (3, 0.6), (100, 0.2)])
def test_backward_correction_under_symmetric_noise_is_negative_smoothing(c, f):
    """backward(T^-1) == smearing with T^-1 == smoothing with eps = -f/(1-f) == (1/(1-f)) times the un-normalised
    negatively smoothed loss l_y - (f/C) sum_j l_j; and T^-1 is that smoothing matrix, entry by entry."""
    logits, y = _batch(c, seed=c)
    t = _symmetric_t(c, f)
    t_inv = torch.linalg.inv(t)
    eps = backward_epsilon(f)
    assert eps < 0
    assert torch.allclose(t_inv, smoothing_matrix(c, eps), rtol=0, atol=1e-12)
    backward = backward_corrected_loss(logits, y, t_inv, clip=None)
    assert backward.dtype == F64
    smeared = smeared_loss(logits, y, t_inv, clip=None)
    smoothed = smeared_loss(logits, y, smoothing_matrix(c, eps), clip=None)
    per_class = -F.log_softmax(logits, dim=1)  # l_j, (n, C)
    unnormalised = (per_class.gather(1, y[:, None]).squeeze(1) - f / c * per_class.sum(dim=1)).mean()
    for value in (smeared, smoothed, unnormalised / (1.0 - f)):
        assert torch.allclose(backward, value, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(backward, F.cross_entropy(logits, y))  # the identity is not a member here


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
def test_positive_smoothing_member_is_label_smoothing(eps):
    logits, y = _batch(10, seed=1)
    expected = soft_cross_entropy(logits, smoothed_targets(y, 10, eps, F64))
    assert torch.allclose(
        smeared_loss(logits, y, smoothing_matrix(10, eps), clip=None), expected, rtol=1e-12, atol=1e-12
    )


def test_identity_member_is_the_cross_entropy():
    logits, y = _batch(5, seed=2)
    assert torch.allclose(
        smeared_loss(logits, y, torch.eye(5, dtype=F64), clip=None), F.cross_entropy(logits, y), rtol=1e-12, atol=1e-12
    )


def test_negative_smoothing_is_unbounded_below_without_the_clip_and_positive_is_not():
    """Pushing the logits further along a direction that favours the given label: with eps >= 0 the loss stays above
    its minimum (the target's entropy); with eps < 0 (as the backward correction) the raw loss falls without bound,
    and the clipped one (Patrini et al.'s bound, the default there) stops once the clip is reached."""
    c = 4
    y = torch.tensor([0])
    direction = torch.tensor([[1.0, -1.0, 0.0, 0.0]], dtype=F64)

    def loss(eps: float, scale: float, clip: float | None = None) -> float:
        return float(smeared_loss(scale * direction, y, smoothing_matrix(c, eps), clip=clip))

    negative = [loss(-0.2, s) for s in (10.0, 100.0, 1000.0)]
    assert negative[0] > negative[1] > negative[2] and negative[2] < -100.0
    bounded = [loss(-0.2, s, PATRINI_CLIP) for s in (10.0, 100.0, 1000.0)]
    assert bounded[0] > bounded[1] == bounded[2] > -3.0  # -(3 * -0.05) * ln 1e-7 = -2.42: every wrong p clipped
    target = smoothed_targets(y, c, 0.2, F64)
    entropy = float(-(target * target.log()).sum())
    assert all(loss(0.2, s) >= entropy - 1e-12 for s in (0.0, 1.0, 10.0, 100.0, 1000.0))


def _train(tmp_path, *options) -> dict:
    code = main(["train", *NOISY, *options, f"output_root={tmp_path}"])
    assert code == 0
    (run,) = list((tmp_path / "runs").iterdir())
    return {
        "summary": json.loads((run / "summary.json").read_text()),
        "metrics": [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()],
    }


def test_negative_smoothing_trains_on_noisy_digits(tmp_path):
    out = _train(tmp_path, "method=label_smearing", "method.smoothing_epsilon=-0.2")
    assert out["summary"]["smearing"] == "smoothing"
    assert out["summary"]["smearing_min_entry"] == pytest.approx(-0.2 / 10)
    assert 0.0 <= out["summary"]["final_test_acc"] <= 1.0


@pytest.mark.slow
def test_backward_member_trains_as_backward_loss_correction(tmp_path):
    """The same run through both methods: same batches, same loss (T^-1 of the same noise model), same metrics."""
    smear = _train(tmp_path / "a", "method=label_smearing", "method.smearing=backward")
    corrected = _train(tmp_path / "b", "method=loss_correction", "method.correction=backward")
    for a, b in zip(smear["metrics"], corrected["metrics"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["test_acc"] == b["test_acc"]
    assert smear["summary"]["smearing_min_entry"] < 0


@pytest.mark.parametrize(
    "options, needle",
    [
        (["method.smearing=sideways"], "method.smearing"),
        (["method.smoothing_epsilon=1.5"], "method.smoothing_epsilon"),
        (["method.smearing=backward", "method.transition=estimated"], "method.transition"),
        (["method.smearing=backward", "method.transition=given"], "method.matrix"),
        (["method.smearing=backward", "noise=none"], "no label noise"),
    ],
)
def test_bad_options_are_refused_before_any_work(options, needle, tmp_path, capsys):
    code = main(["train", *NOISY, "method=label_smearing", *options, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_negative_label_smoothing_is_refused_with_the_smearing_form_to_use(tmp_path, capsys):
    """`method=label_smoothing` keeps eps in [0, 1); a negative eps is refused with the command that does train it."""
    code = main(["train", *NOISY, "method=label_smoothing", "method.epsilon=-0.2", f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "method=label_smearing method.smoothing_epsilon=-0.2" in err
    assert not (tmp_path / "runs").exists()
