"""Loss correction (Patrini et al.): the forward loss on a hand-computed case, the backward loss's unbiasedness for a
known T, the anchor-point estimate against their rule, refusals of bad input (exit 2), and CLI runs on noisy digits
(forward and backward, known and estimated T)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

import presets
from repro.cli import main
from repro.data.noise.transition import anchor_transition, check_transition, noise_transition
from repro.errors import UserError
from repro.methods import check_method_options
from repro.methods.loss_correction import LossCorrection, backward_corrected_loss, forward_corrected_loss

NOISY = [*presets.NOISY, "optim.epochs=1"]
T2 = [[0.8, 0.2], [0.3, 0.7]]


# -- the losses ---------------------------------------------------------------------------------------------------


def test_forward_corrected_loss_on_a_worked_example():
    # logits (0, ln 3): p = (1/4, 3/4). With T above, (p^T T) = (0.25*0.8 + 0.75*0.3, 0.25*0.2 + 0.75*0.7)
    # = (0.425, 0.575): label 0 costs -ln 0.425, label 1 -ln 0.575.
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]], dtype=torch.float64)
    t = torch.tensor(T2, dtype=torch.float64)
    assert forward_corrected_loss(logits[:1], torch.tensor([0]), t).item() == pytest.approx(-math.log(0.425), abs=1e-6)
    assert forward_corrected_loss(logits[1:], torch.tensor([1]), t).item() == pytest.approx(-math.log(0.575), abs=1e-6)
    both = forward_corrected_loss(logits, torch.tensor([0, 1]), t).item()
    assert both == pytest.approx(-(math.log(0.425) + math.log(0.575)) / 2, abs=1e-6)


def test_forward_correction_with_the_identity_is_the_cross_entropy_and_handles_zeros_of_t():
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    assert torch.allclose(forward_corrected_loss(logits, y, torch.eye(4)), F.cross_entropy(logits, y), atol=1e-6)
    loss = forward_corrected_loss(logits.requires_grad_(), y, torch.eye(4))
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def _random_stochastic(c: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(c, c, generator=g, dtype=torch.float64) + 2.0 * torch.eye(c, dtype=torch.float64)
    return t / t.sum(dim=1, keepdim=True)


def test_backward_corrected_loss_is_unbiased_for_a_known_t():
    """E over the given label ~ T[y, :] of the backward loss = the clean cross-entropy, for every true class y:
    exactly (summing over the C given labels) and by sampling 200,000 noisy labels."""
    c = 3
    t = _random_stochastic(c, 1)
    t_inv = torch.linalg.inv(t)
    logits = torch.randn(1, c, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for true in range(c):
        clean = F.cross_entropy(logits, torch.tensor([true])).item()
        expected = sum(
            t[true, g].item() * backward_corrected_loss(logits, torch.tensor([g]), t_inv, clip=None).item()
            for g in range(c)
        )
        assert expected == pytest.approx(clean, abs=1e-9)
        given = torch.multinomial(t[true], 200_000, replacement=True, generator=torch.Generator().manual_seed(true))
        sampled = backward_corrected_loss(logits.expand(len(given), c), given, t_inv, clip=None).item()
        assert sampled == pytest.approx(clean, abs=0.02)
    # ... while the uncorrected cross-entropy on noisy labels is biased
    noisy_ce = sum(t[0, g].item() * F.cross_entropy(logits, torch.tensor([g])).item() for g in range(c))
    assert abs(noisy_ce - F.cross_entropy(logits, torch.tensor([0])).item()) > 0.05


def test_known_transition_of_the_uniform_model_matches_its_sampled_labels():
    from repro.data.noise import inject_uniform_noise

    t = noise_transition(OmegaConf.create({"kind": "uniform", "fraction": 0.4, "seed": 0}), 5)
    assert torch.allclose(t.sum(dim=1), torch.ones(5, dtype=torch.float64))
    true = torch.arange(5).repeat(20_000)
    noisy, _ = inject_uniform_noise(true, fraction=0.4, num_classes=5, seed=0, among=None)
    counts = torch.zeros(5, 5, dtype=torch.float64)
    counts.index_put_((true, noisy), torch.ones(len(true), dtype=torch.float64), accumulate=True)
    assert torch.allclose(counts / counts.sum(dim=1, keepdim=True), t, atol=0.01)


# -- the anchor-point estimate -----------------------------------------------------------------------------------


def test_anchor_points_follow_their_percentile_rule():
    g = torch.Generator().manual_seed(3)
    probs = torch.softmax(3 * torch.randn(200, 4, generator=g), dim=1)
    t, anchors = anchor_transition(probs, 97.0, where="test")
    for i in range(4):  # their NoiseEstimator with filter_outlier=True, in numpy
        eta = probs[:, i].double().numpy().copy()
        eta[eta >= np.percentile(eta, 97, method="higher")] = 0.0
        assert anchors[i] == int(np.argmax(eta))
    expected = probs[anchors].double()
    assert torch.allclose(t, expected / expected.sum(dim=1, keepdim=True))
    _, plain = anchor_transition(probs, None, where="test")
    assert plain == [int(probs[:, i].argmax()) for i in range(4)]


def test_anchor_points_recover_the_transition_of_a_perfect_noisy_posterior():
    # A network that learned the noisy posterior exactly: p(given | x) = T[class(x), :]; clean images have anchors.
    t = _random_stochastic(3, 4).float()
    probs = t[torch.arange(3).repeat(50)]
    estimate, _ = anchor_transition(probs, None, where="test")
    assert torch.allclose(estimate.float(), t, atol=1e-6)


def test_a_class_without_an_anchor_point_is_refused():
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.9, 0.1, 0.0], [0.2, 0.8, 0.0]])
    with pytest.raises(UserError, match="no anchor point for class.*2"):
        anchor_transition(probs, None, where="method.estimator=x")


# -- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "matrix, needle",
    [
        ([[0.8, 0.3], [0.3, 0.7]], "not row-stochastic"),
        ([[1.2, -0.2], [0.3, 0.7]], "negative"),
        ([[1.0, 0.0]], "2 x 2"),
        ([[0.5, 0.5], [0.5, 0.5]], "singular"),
    ],
)
def test_a_bad_transition_matrix_is_refused(matrix, needle):
    with pytest.raises(UserError, match=needle):
        check_transition(matrix, 2, where="method.matrix", invertible=True)


def test_known_t_on_clean_data_is_refused():
    with pytest.raises(UserError, match="no label noise"):
        noise_transition(OmegaConf.create({"kind": "none", "fraction": 0.0, "seed": 0}), 10)


@pytest.mark.parametrize(
    "options, needle",
    [
        (["method.correction=sideways"], "method.correction"),
        (["method.transition=guessed"], "method.transition"),
        (["method.transition=given"], "method.matrix"),
        (["method.anchor_percentile=150"], "anchor_percentile"),
    ],
)
def test_bad_options_are_refused_at_config_load(options, needle, tmp_path, capsys):
    code = main(["train", "method=loss_correction", *NOISY, *options, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def _not_row_stochastic() -> str:
    rows = [[0.91 if i == j else 0.01 for j in range(10)] for i in range(10)]
    rows[3][3] = 0.5
    return "method.matrix=" + json.dumps(rows).replace(" ", "")


@pytest.mark.parametrize(
    "options, needle",
    [
        (["noise=none"], "no label noise"),
        (["method.transition=given", _not_row_stochastic()], "row 3 sums to"),
    ],
)
def test_refusals_before_the_run_starts(options, needle, tmp_path, capsys):
    code = main(["train", "method=loss_correction", *NOISY, *options, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused before anything of the run is written


def test_an_estimate_without_an_anchor_point_stops_before_training(tmp_path, capsys, monkeypatch, trained_runs):
    import repro.methods.loss_correction as lc

    estimator = trained_runs.copy("baseline", tmp_path).run_id  # trained on the same noisy digits
    monkeypatch.setattr(
        lc, "softmax_outputs", lambda model, images, **kw: F.one_hot(torch.arange(len(images)) % 9, 10).float()
    )
    code = main(
        [
            "train",
            "method=loss_correction",
            *NOISY,
            "method.transition=estimated",
            "method.anchor_percentile=null",
            f"method.estimator={estimator}",
            f"output_root={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no anchor point for class(es) 9" in err and "Traceback" not in err
    runs = [p for p in (tmp_path / "runs").iterdir() if p.name != estimator]
    assert all(not (p / "checkpoint.pt").exists() and not (p / "metrics.jsonl").exists() for p in runs)


def test_an_estimator_of_other_noise_is_refused(tmp_path, capsys):
    assert main(["train", "method=baseline", *NOISY, "noise.fraction=0.2", f"output_root={tmp_path}"]) == 0
    estimator = next((tmp_path / "runs").iterdir()).name
    code = main(
        [
            "train",
            "method=loss_correction",
            *NOISY,
            "method.transition=estimated",
            f"method.estimator={estimator}",
            f"output_root={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "noise.fraction=0.2 (this run: 0.4)" in err


def test_options_check_directly():
    base = {
        "name": "loss_correction",
        "correction": "forward",
        "transition": "known",
        "estimator": None,
        "anchor_percentile": "auto",
        "matrix": None,
    }
    check_method_options(LossCorrection.declaration, base)
    with pytest.raises(UserError, match="method.estimator is set"):
        check_method_options(LossCorrection.declaration, {**base, "estimator": "some-run"})


# -- runs on noisy digits ---------------------------------------------------------------------------------------


def _summary(root, run_id=None) -> dict:
    runs = sorted((root / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    path = next(p for p in runs if p.name == run_id) if run_id else runs[-1]
    return json.loads((path / "summary.json").read_text())


def test_known_t_of_the_exact_fraction_model_comes_from_the_noise_model(tmp_path):
    from repro.data.noise import transition_matrix

    assert (
        main(
            [
                "train",
                "method=loss_correction",
                *NOISY,
                "noise=exact_fraction",
                "noise.fraction=0.4",
                f"output_root={tmp_path}",
            ]
        )
        == 0
    )
    summary = _summary(tmp_path)
    assert summary["transition_mae"] == 0.0
    diag = summary["transition_diag_mean"]
    assert diag != pytest.approx(0.64, abs=1e-9)  # exact given the run's chosen subset, not the uniform model's
    assert 0.55 < diag < 0.75
    assert transition_matrix({"kind": "exact_fraction", "fraction": 0.4, "seed": 0}, 10).shape == (10, 10)


@pytest.mark.parametrize("correction", ["forward", "backward"])
@pytest.mark.slow
def test_cli_runs_with_known_and_estimated_t(correction, tmp_path, trained_runs):
    assert (
        main(["train", "method=loss_correction", *NOISY, f"method.correction={correction}", f"output_root={tmp_path}"])
        == 0
    )
    known = _summary(tmp_path)
    assert known["transition"] == "known" and known["correction"] == correction
    assert known["transition_mae"] == 0.0 and known["transition_diag_mean"] == pytest.approx(0.64)
    assert math.isfinite(known["final_test_acc"])

    estimator = trained_runs.copy("baseline", tmp_path).run_id  # two epochs on the same noisy digits
    assert (
        main(
            [
                "train",
                "method=loss_correction",
                *NOISY,
                f"method.correction={correction}",
                "method.transition=estimated",
                f"method.estimator={estimator}",
                f"output_root={tmp_path}",
            ]
        )
        == 0
    )
    est = _summary(tmp_path)
    assert est["transition"] == "estimated" and est["estimator_run"] == estimator
    assert len(est["anchor_samples"]) == 10 and len(est["transition_matrix"]) == 10
    assert all(sum(row) == pytest.approx(1.0, abs=1e-5) for row in est["transition_matrix"])
    assert math.isfinite(est["transition_mae"]) and math.isfinite(est["final_test_acc"])
