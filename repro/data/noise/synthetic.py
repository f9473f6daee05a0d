"""The synthetic label noise models (`noise.kind`), injected into the training part only; meta and test labels stay
clean.

- `none`: the given labels are the true ones.
- `uniform` (the paper, Sec. 3.5, and Meta-Weight-Net, setting A): each label becomes a uniformly random class
  with probability `fraction`; the random class may equal the true one.
- `exact_fraction` (Data Parameters, setting B; apple/ml-data-parameters, dataset/cifar_dataset.py,
  `corrupt_fraction_of_data`): exactly floor(fraction * n) training samples are chosen and their labels permuted
  among themselves (a uniformly random permutation, which may map a label to itself or to another of its class).

The annotators' models (CIFAR-N, simulated annotators) are in annotator_noise.py; what every model answers, in
registry.py.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from repro.data.noise.registry import NoiseModel, check_inputs, on_cpu, register_noise_model
from repro.errors import UserError
from repro.schema import option, schema


@schema
class FractionOptions:
    """The keys of the synthetic models."""

    kind: str = option(why="the noise model (noise=<kind> sets it; the registered models: repro/data/noise/)")
    fraction: float = option(default=0.0, ge=0, lt=1, why="the share of training labels the model redraws")
    seed: int = option(default=0, ge=0, why="which labels are noised (independent of the split)")


@register_noise_model
class NoNoise(NoiseModel):
    """The given labels are the true ones."""

    kind = "none"
    Options = FractionOptions

    def inject(self, targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None):
        return targets.clone(), torch.zeros_like(targets, dtype=torch.bool)

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        return torch.eye(num_classes, dtype=torch.float64)


@register_noise_model
class UniformNoise(NoNoise):
    """Each training label becomes a uniformly random class with probability `fraction`: T = (1 - f) I + f / C
    (every entry; the redraw may hit the true class), independent of the data."""

    kind = "uniform"

    def describes_noise(self) -> bool:
        return self.options.fraction > 0.0

    def inject(self, targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None):
        if not self.describes_noise():
            return super().inject(targets, num_classes=num_classes, among=among)
        o = self.options
        return inject_uniform_noise(targets, fraction=o.fraction, num_classes=num_classes, seed=o.seed, among=among)

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        f = float(self.options.fraction)
        return (1 - f) * torch.eye(num_classes, dtype=torch.float64) + f / num_classes


@register_noise_model
class ExactFractionNoise(UniformNoise):
    """Data Parameters' noise: exactly floor(fraction * n) training labels permuted among themselves.

    T, with `targets` (the true training targets) and `among` (the run's training part), is exact in expectation
    over the permutation given the run's chosen subset S (the same seeded choice as the injection): a sample of
    class i is in S with probability s_i / N_i (s_i: class-i samples in S, N_i: in the training part), and a sample
    in S receives the label of a uniformly random member of S (itself included), class j with probability s_j / m
    (m = |S|). So T[i, j] = (s_i / N_i) s_j / m + (1 - s_i / N_i) [i == j]. Without `targets`, the expectation over
    S with balanced classes (s_i / N_i = f, s_j / m = 1 / C): the same matrix as uniform, (1 - f) I + f / C."""

    kind = "exact_fraction"

    def inject(self, targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None):
        if not self.describes_noise():
            return NoNoise.inject(self, targets, num_classes=num_classes, among=among)
        o = self.options
        return inject_exact_fraction_noise(
            targets, fraction=o.fraction, num_classes=num_classes, seed=o.seed, among=among
        )

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        if targets is None or not self.describes_noise():
            return super().transition_matrix(num_classes)
        C, fraction = num_classes, float(self.options.fraction)
        eye = torch.eye(C, dtype=torch.float64)
        true, selected = check_inputs(on_cpu(targets), fraction, C, among)
        subset, _ = _exact_draws(fraction, int(self.options.seed), selected)
        class_counts = torch.bincount(true[selected], minlength=C).double()
        subset_counts = torch.bincount(true[subset], minlength=C).double()
        in_subset = subset_counts / class_counts.clamp(min=1)  # s_i / N_i (0 for a class absent from training)
        receive = subset_counts / subset_counts.sum()  # s_j / m
        return in_subset[:, None] * receive[None, :] + (1 - in_subset)[:, None] * eye


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
    chosen, shuffled = _exact_draws(fraction, seed, selected)
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


def _exact_draws(fraction: float, seed: int, selected: Tensor) -> tuple[Tensor, Tensor]:
    """(chosen, shuffled): the global indices whose labels the exact-fraction model replaces, and, position by
    position, the indices whose labels they receive (a permutation of `chosen`)."""
    k = corrupted_count(fraction, int(selected.sum()))
    generator = torch.Generator().manual_seed(int(seed))
    keys = torch.rand(selected.numel(), generator=generator)
    keys[~selected] = math.inf
    chosen = torch.argsort(keys, stable=True)[:k]
    return chosen, chosen[torch.randperm(k, generator=generator)]
