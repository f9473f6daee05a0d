"""The synthetic label noise models (`noise.kind`), injected into the training part only; meta and test labels stay
clean.

- `none`: the given labels are the true ones.
- `uniform` (the paper, Sec. 3.5, and Meta-Weight-Net, setting A): each label becomes a uniformly random class
  with probability `fraction`; the random class may equal the true one.
- `exact_fraction` (Data Parameters, setting B; apple/ml-data-parameters, dataset/cifar_dataset.py,
  `corrupt_fraction_of_data`): exactly floor(fraction * n) training samples are chosen and their labels permuted
  among themselves (a uniformly random permutation, which may map a label to itself or to another of its class).

The annotators' models (CIFAR-N, simulated annotators) are in annotator_noise.py; what every model answers, in
registry.py. The tensor work (draws, matrices) is in synthetic_tensors.py, imported by the methods that do it:
a model's declaration is read without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from repro.data.noise.registry import NoiseModel, register_noise_model
from repro.schema import option, schema

if TYPE_CHECKING:
    from torch import Tensor


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
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import unchanged

        return unchanged(targets)

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import identity

        return identity(num_classes)


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
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import inject_uniform_noise

        o = self.options
        return inject_uniform_noise(targets, fraction=o.fraction, num_classes=num_classes, seed=o.seed, among=among)

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import uniform_transition

        return uniform_transition(float(self.options.fraction), num_classes)


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
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import inject_exact_fraction_noise

        o = self.options
        return inject_exact_fraction_noise(
            targets, fraction=o.fraction, num_classes=num_classes, seed=o.seed, among=among
        )

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        if targets is None or not self.describes_noise():
            return super().transition_matrix(num_classes)
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.synthetic_tensors import exact_fraction_transition

        o = self.options
        return exact_fraction_transition(float(o.fraction), int(o.seed), num_classes, targets=targets, among=among)
