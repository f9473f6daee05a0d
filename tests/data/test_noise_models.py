"""Noise models (repro/data/noise/): the exact-fraction model (Data Parameters), the transition matrix and actual
noise rate every model answers, their refusals, and co-teaching's default forget rate from the actual rate."""

from __future__ import annotations

import pytest
import torch

from presets import QUIET, noisy_digits
from repro.cli import main
from repro.config import load_config
from repro.data.noise import NoiseModel, corrupted_count, inject_exact_fraction_noise, register_noise_model
from repro.data.noise.apply import actual_noise_rate, inject_noise, transition_matrix
from repro.data.noise.synthetic import FractionOptions
from repro.data.splits import make_split
from repro.errors import UserError
from repro.methods.coteaching import resolved_forget_rate
from repro.train import train
from repro.training.run_data import load_run_data


def _targets(counts: list[int], seed: int = 123) -> torch.Tensor:
    t = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return t[torch.randperm(t.numel(), generator=torch.Generator().manual_seed(seed))]


def _cfg(kind: str, fraction: float, seed: int = 0) -> dict:
    return {"kind": kind, "fraction": fraction, "seed": seed}


def _confusion(true: torch.Tensor, given: torch.Tensor, C: int) -> torch.Tensor:
    counts = torch.zeros(C, C, dtype=torch.float64)
    counts.index_put_((true, given), torch.ones_like(true, dtype=torch.float64), accumulate=True)
    return counts / counts.sum(1, keepdim=True)


# -- the exact-fraction model -------------------------------------------------------------------------------
def test_exact_fraction_permutes_exactly_floor_fraction_of_the_training_part():
    targets = _targets([400, 300, 200, 100])
    train_idx, meta_idx = make_split(targets, meta_fraction=0.1, folds=1, fold=0, seed=0)
    given, noisy = inject_exact_fraction_noise(targets, fraction=0.4, num_classes=4, seed=3, among=train_idx)
    n, k = train_idx.numel(), int(0.4 * train_idx.numel())
    assert corrupted_count(0.4, n) == k
    assert torch.equal(noisy, given != targets)
    assert not noisy[meta_idx].any() and torch.equal(given[meta_idx], targets[meta_idx])
    # A permutation keeps every class's count in the training part: the labels moved, none was invented.
    assert torch.equal(torch.bincount(given[train_idx], minlength=4), torch.bincount(targets[train_idx], minlength=4))
    # At most k labels changed, and most of the permuted ones did (a label moves to another class unless its
    # partner shares the class): expected share (k / n) (1 - sum_j (s_j / m)^2) ~ 0.4 x 0.7 here.
    assert 0.6 * k < int(noisy.sum()) <= k
    again, _ = inject_exact_fraction_noise(targets, fraction=0.4, num_classes=4, seed=3, among=train_idx)
    other, _ = inject_exact_fraction_noise(targets, fraction=0.4, num_classes=4, seed=4, among=train_idx)
    assert torch.equal(given, again) and not torch.equal(given, other)


def test_inject_noise_dispatches_on_the_kind():
    targets = _targets([50] * 4)
    none, mask = inject_noise(_cfg("none", 0.4), targets, num_classes=4, among=None)
    assert torch.equal(none, targets) and not mask.any()
    exact, _ = inject_noise(_cfg("exact_fraction", 0.4, 2), targets, num_classes=4, among=None)
    assert torch.equal(exact, inject_exact_fraction_noise(targets, fraction=0.4, num_classes=4, seed=2, among=None)[0])
    with pytest.raises(UserError, match="noise.kind"):
        inject_noise(_cfg("pairflip", 0.4), targets, num_classes=4, among=None)


@pytest.mark.parametrize("fraction, n", [(0.001, 300), (0.004, 300)])
def test_a_fraction_that_corrupts_fewer_than_two_samples_is_refused_with_the_numbers(fraction, n):
    with pytest.raises(UserError) as info:
        inject_exact_fraction_noise(
            _targets([n // 2, n - n // 2]), fraction=fraction, num_classes=2, seed=0, among=None
        )
    text = str(info.value)
    assert f"floor({fraction} x {n}) = {int(fraction * n)}" in text and "noise.fraction >=" in text


def test_the_cli_refuses_an_exact_fraction_it_cannot_make(tmp_path, capsys):
    code = main(
        [
            "train",
            "noise=exact_fraction",
            "noise.fraction=0.001",
            "split=noisy",
            "data.subset=300",
            "optim.epochs=1",
            *QUIET,
            f"output_root={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "exact_fraction" in err and "Traceback" not in err
    assert not list(tmp_path.glob("runs/*/summary.json"))


@pytest.mark.slow
def test_an_unknown_noise_kind_is_refused_at_config_load():
    with pytest.raises(UserError, match="noise.kind"):
        load_config(["noise=uniform", "noise.kind=pairflip"])
    assert load_config(["noise=exact_fraction"]).noise.kind == "exact_fraction"


# -- transition matrix and actual noise rate ----------------------------------------------------------------
def test_transition_matrix_of_each_model_is_row_stochastic_with_the_documented_form():
    C = 5
    assert torch.equal(transition_matrix(_cfg("none", 0.0), C), torch.eye(C))
    assert torch.equal(transition_matrix(_cfg("uniform", 0.0), C), torch.eye(C))
    T = transition_matrix(_cfg("uniform", 0.4), C, dtype=torch.float64)
    assert T.shape == (C, C) and torch.allclose(T.sum(1), torch.ones(C, dtype=torch.float64))
    assert T[0, 0].item() == pytest.approx(0.6 + 0.4 / C) and T[0, 1].item() == pytest.approx(0.4 / C)
    # Without the data, the exact-fraction model's expectation (balanced classes) is the uniform matrix.
    assert torch.allclose(transition_matrix(_cfg("exact_fraction", 0.4), C, dtype=torch.float64), T)


@pytest.mark.parametrize("kind", ["uniform", "exact_fraction"])
def test_transition_matrix_and_actual_rate_match_what_the_injection_does(kind):
    C, counts = 5, [20_000, 15_000, 10_000, 8_000, 7_000]
    targets = _targets(counts)
    train_idx, _ = make_split(targets, meta_fraction=0.02, folds=1, fold=0, seed=0)
    cfg = _cfg(kind, 0.4, seed=7)
    given, noisy = inject_noise(cfg, targets, num_classes=C, among=train_idx)
    T = transition_matrix(cfg, C, targets=targets, among=train_idx, dtype=torch.float64)
    assert torch.allclose(T.sum(1), torch.ones(C, dtype=torch.float64))
    measured = _confusion(targets[train_idx], given[train_idx], C)
    assert torch.allclose(T, measured, atol=0.012)
    rate = actual_noise_rate(cfg, C, targets=targets, among=train_idx)
    assert rate == pytest.approx(float(noisy[train_idx].float().mean()), abs=0.005)
    if kind == "uniform":
        assert rate == pytest.approx(0.4 * (C - 1) / C)
    else:  # the unbalanced classes make a same-class swap likelier than under balanced ones
        assert rate < 0.4 * (C - 1) / C


# -- co-teaching's default forget rate ------------------------------------------------------------------------
@pytest.mark.slow
def test_coteaching_default_forget_rate_is_the_measured_noise_rate_of_the_runs_data():
    """Under uniform noise the default tau is the actual rate fraction * (C - 1) / C = 0.36, not noise.fraction:
    averaged over 20 noise seeds, the measured share of wrong training labels of the run's data is that rate."""
    measured, rates = [], []
    for seed in range(20):
        cfg = load_config(
            [
                "method=coteaching",
                "split=noisy",
                "noise=uniform",
                "noise.fraction=0.4",
                f"noise.seed={seed}",
            ]
        )
        data = load_run_data(cfg)
        train_idx = data.train_idx
        measured.append(float(data.noisy_mask[train_idx].float().mean()))
        rates.append(resolved_forget_rate(cfg, targets=data.train_true_targets, among=train_idx))
    mean = sum(measured) / len(measured)
    assert all(r == rates[0] for r in rates) and rates[0] == pytest.approx(0.36)
    assert rates[0] == pytest.approx(mean, abs=0.01)  # the standard error of the mean is ~0.003
    assert abs(mean - 0.4) > 0.025  # and noise.fraction itself would be off


@pytest.mark.slow
def test_coteaching_forget_rate_options():
    noisy = ["method=coteaching", "split=noisy", "noise=uniform", "noise.fraction=0.4"]
    assert resolved_forget_rate(load_config(noisy)) == pytest.approx(0.36)
    assert resolved_forget_rate(load_config([*noisy, "method.default_forget_rate=noise_fraction"])) == 0.4
    assert resolved_forget_rate(load_config([*noisy, "method.forget_rate=0.25"])) == 0.25
    assert resolved_forget_rate(load_config(["method=coteaching", "noise=none"])) == 0.0
    with pytest.raises(UserError, match="method.default_forget_rate"):
        load_config([*noisy, "method.default_forget_rate=guess"])


# -- the registry: a model defined in this file alone --------------------------------------------------------
@register_noise_model
class NextClassNoise(NoiseModel):
    """Each training label becomes the next class with probability `fraction` (pair flips)."""

    kind = "next_class"
    Options = FractionOptions

    def describes_noise(self) -> bool:
        return self.options.fraction > 0

    def inject(self, targets, *, num_classes, among, human=None):
        flip = torch.rand(targets.numel(), generator=torch.Generator().manual_seed(self.options.seed))
        chosen = torch.zeros_like(targets, dtype=torch.bool)
        chosen[among if among is not None else slice(None)] = True
        given = torch.where(chosen & (flip < self.options.fraction), (targets + 1) % num_classes, targets)
        return given, given != targets

    def transition_matrix(self, num_classes, *, targets=None, among=None, given=None):
        f = self.options.fraction
        return (1 - f) * torch.eye(num_classes, dtype=torch.float64) + f * torch.eye(num_classes).roll(1, 1).double()


def test_a_noise_model_registered_in_a_test_file_trains_a_run(tmp_path):
    overrides = [o for o in noisy_digits() if o != "noise=uniform"] + ["noise=uniform", "noise.kind=next_class"]
    cfg = load_config([*overrides, "optim.epochs=1", f"output_root={tmp_path}"])
    assert actual_noise_rate(cfg.noise, 10) == pytest.approx(0.4)
    data = load_run_data(cfg)
    train_idx, meta_idx = data.train_idx, data.meta_idx
    changed = data.train_targets != data.train_true_targets
    assert torch.equal(data.train_targets[changed], (data.train_true_targets[changed] + 1) % 10)
    assert not changed[meta_idx].any() and 0.25 < changed[train_idx].float().mean() < 0.55
    result = train(cfg)  # the memorisation recorder asks the model whether there is noise
    assert "memorised_noisy" in result.run_dir.read_metrics()[-1]


def test_a_noise_models_keys_are_its_declaration():
    with pytest.raises(UserError, match=r"noise.file is not a key of noise here; it takes fraction, kind, seed"):
        load_config(["noise=cifar_n", "noise.kind=uniform"])
    with pytest.raises(UserError, match=r"noise.rates\[1\]=1.5 \(float\) is not allowed"):
        load_config(["noise=annotators", "noise.rates=[0.1,1.5,0.2]"])
    with pytest.raises(UserError, match="three error rates"):
        load_config(["noise=annotators", "noise.rates=[0.1,0.2]"])
    with pytest.raises(UserError, match="'next_class'"):  # the registered kinds are the choices
        load_config(["noise=uniform", "noise.kind=pairflip"])
