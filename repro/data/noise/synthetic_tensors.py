"""The synthetic noise models' tensor work (synthetic.py declares the models): their seeded draws and their
transition matrices.

Why apart: the declarations are read without torch (whether a planned run is noisy, in `repro tables` and `repro
ledger`); a model's `inject` and `transition_matrix` import this module when called."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from repro.data.noise.checks import check_inputs, on_cpu
from repro.errors import UserError


def unchanged(targets: Tensor) -> tuple[Tensor, Tensor]:
    """(given, noisy_mask) without noise: a copy of `targets`, no label noised."""
    return targets.clone(), torch.zeros_like(targets, dtype=torch.bool)


def identity(num_classes: int) -> Tensor:
    """T without noise."""
    return torch.eye(num_classes, dtype=torch.float64)


def uniform_transition(fraction: float, num_classes: int) -> Tensor:
    """Uniform noise's T = (1 - f) I + f / C (the redraw may hit the true class)."""
    return (1 - fraction) * identity(num_classes) + fraction / num_classes


def exact_fraction_transition(
    fraction: float, seed: int, num_classes: int, *, targets: Tensor, among: Tensor | None
) -> Tensor:
    """The exact-fraction model's T given the run's chosen subset (its form: synthetic.py, ExactFractionNoise)."""
    C = num_classes
    true, selected = check_inputs(on_cpu(targets), fraction, C, among)
    subset, _ = exact_draws(fraction, seed, selected)
    class_counts = torch.bincount(true[selected], minlength=C).double()
    subset_counts = torch.bincount(true[subset], minlength=C).double()
    in_subset = subset_counts / class_counts.clamp(min=1)  # s_i / N_i (0 for a class absent from training)
    receive = subset_counts / subset_counts.sum()  # s_j / m
    return in_subset[:, None] * receive[None, :] + (1 - in_subset)[:, None] * identity(C)


def inject_uniform_noise(
    targets: Tensor, *, fraction: float, num_classes: int, seed: int, among: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Return (noisy_targets, noisy_mask); `targets` itself is left untouched (it is the record of true classes).

    Random numbers are drawn for *all* samples from a generator seeded by `seed`, then applied only to
    `among` (global indices, or a boolean mask; None = all samples). So the noise on sample i depends only
    on the seed, not on which fold's meta set was excluded. `noisy_mask` marks labels that actually changed;
    its expected rate over `among` is `fraction * (num_classes - 1) / num_classes`.
    """
    targets, selected = check_inputs(targets, fraction, num_classes, among)
    generator = torch.Generator().manual_seed(int(seed))
    flip = torch.rand(targets.numel(), generator=generator) < fraction
    random_class = torch.randint(0, num_classes, (targets.numel(),), generator=generator)
    replace = (flip & selected).to(targets.device)
    noisy_targets = torch.where(replace, random_class.to(targets.device), targets)
    return noisy_targets, noisy_targets != targets


def inject_exact_fraction_noise(
    targets: Tensor, *, fraction: float, num_classes: int, seed: int, among: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Data Parameters' noise: permute the labels of exactly `corrupted_count(fraction, n)` of the n samples in
    `among` among themselves. Returns (noisy_targets, noisy_mask) like `inject_uniform_noise`.

    The chosen subset is the k samples of `among` with the smallest of n_all seeded uniform keys (drawn for all
    samples, so a sample's key does not depend on the split); the permutation comes from the same generator.
    Their code takes the first k images of CIFAR's (arbitrary) file order instead; the distribution is the same.
    """
    targets, selected = check_inputs(targets, fraction, num_classes, among)
    chosen, shuffled = exact_draws(fraction, seed, selected)
    noisy_targets = targets.clone()
    noisy_targets[chosen.to(targets.device)] = targets[shuffled.to(targets.device)]
    return noisy_targets, noisy_targets != targets


def corrupted_count(fraction: float, n: int) -> int:
    """How many of n samples the exact-fraction model corrupts: floor(fraction * n), as their np.floor does
    (rounded to 9 decimals first so 0.3 * 10 = 2.9999... counts 3). Refuses a count below 2, where a permutation
    cannot change any label."""
    k = int(math.floor(round(float(fraction) * n, 9)))
    if fraction > 0 and k < 2:
        raise UserError(
            f"noise.kind=exact_fraction with noise.fraction={fraction} corrupts floor({fraction} x {n}) = {k} of the "
            f"{n} training samples, and a permutation of fewer than 2 labels changes none: the requested noise "
            f"cannot be made. Use noise.fraction >= {2 / max(n, 1):.3g} on this data (or more training samples), "
            "or noise=uniform."
        )
    return k


def exact_draws(fraction: float, seed: int, selected: Tensor) -> tuple[Tensor, Tensor]:
    """(chosen, shuffled): the global indices whose labels the exact-fraction model replaces, and, position by
    position, the indices whose labels they receive (a permutation of `chosen`)."""
    k = corrupted_count(fraction, int(selected.sum()))
    generator = torch.Generator().manual_seed(int(seed))
    keys = torch.rand(selected.numel(), generator=generator)
    keys[~selected] = math.inf
    chosen = torch.argsort(keys, stable=True)[:k]
    return chosen, chosen[torch.randperm(k, generator=generator)]
