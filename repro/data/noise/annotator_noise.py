"""The annotators' noise models: the given label of a training image is an annotator's (`cifar_n`: a CIFAR-N file's
human labels, repro/data/cifar_n.py; `annotators`: three SIMULATED annotators, repro/data/simulated_annotators.py).
They have no fraction: which labels differ is the annotations' answer, so their T and rate are the empirical ones of
the run's training part, counted from its clean labels.

The declarations here import no torch (a config's keys are checked, and whether it is noisy answered, also in
`repro tables` and `repro ledger`); the tensor work is in annotator_tensors.py, repro/data/cifar_n_labels.py and
repro/data/simulated_annotators.py, imported by the methods that do it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from repro.data.cifar_n import ANNOTATOR_KEYS, NOISE_TYPES, RELEASES
from repro.data.noise.registry import NoiseModel, register_noise_model
from repro.errors import UserError
from repro.schema import option, schema

if TYPE_CHECKING:
    from torch import Tensor

# The simulated annotators' (repro/data/simulated_annotators.py) label types, as CIFAR-10N's, and default error rates.
SIMULATED_TYPES = ("aggre", "random1", "random2", "random3", "worse")
DEFAULT_RATES = (0.15, 0.18, 0.21)  # CIFAR-10N's annotators err 17-18%: worse ~45%, aggre ~7% (CIFAR-10N: 40%, 9%)


def _cifar_n_types() -> tuple[str, ...]:
    return tuple(NOISE_TYPES)


def _simulated_types() -> tuple[str, ...]:
    return SIMULATED_TYPES


def _default_rates() -> list[float]:
    return list(DEFAULT_RATES)


@schema
class CifarNOptions:
    """The keys of `noise=cifar_n`."""

    kind: str = option(why="the noise model (noise=<kind> sets it; the registered models: repro/data/noise/)")
    # Where the user's copy lives (like data.root): not in the run id; the run records the file's md5 instead.
    file: str | None = option(
        default=None, identity=False, why="your copy of CIFAR-10_human.pt / CIFAR-100_human.pt (or CIFAR_N_FILE)"
    )
    type: str = option(choices=_cifar_n_types, why="the label set: CIFAR-10N's aggre ... worse, CIFAR-100N's noisy")


@schema
class AnnotatorsOptions:
    """The keys of `noise=annotators`."""

    kind: str = option(why="the noise model (noise=<kind> sets it; the registered models: repro/data/noise/)")
    type: str = option(choices=_simulated_types, why="which annotation is given, as CIFAR-10N's label sets")
    rates: list[float] = option(default_factory=lambda: _default_rates(), ge=0, lt=1, why="each annotator's error rate")
    seed: int = option(default=0, ge=0, why="the annotators' confusions and votes")

    def check(self) -> None:
        if len(self.rates) != 3:
            raise UserError(
                f"noise.rates must be three error rates in [0, 1), one per simulated annotator; got {list(self.rates)}."
            )


class _Annotations(NoiseModel):
    annotations = True

    def describes_noise(self) -> bool:
        return True  # a file of human labels always does

    def inject(self, targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None):
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.annotator_tensors import given_over_training

        if human is None:
            human = self.load_annotations(targets, num_classes)
        return given_over_training(targets, num_classes, among, human)

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        """T[i, j] = share of the (selected) samples of true class i given label j; identity row for an absent
        class. From `targets` and the run's `given` labels (both, or neither: then over the whole file, before a
        run)."""
        if given is None and targets is not None:
            # The run's training set may be a data.subset of the file's images (or of the simulated annotators'
            # draw): only the run's own given labels, aligned before the subset was cut, fit its targets.
            raise ValueError("the empirical T of annotators' labels over a run's targets needs that run's given labels")
        if given is None:
            targets, given = self._file_labels(None, num_classes)
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.noise.annotator_tensors import empirical_transition

        return empirical_transition(targets, given, num_classes, among)

    def true_labels(self, num_classes: int) -> Tensor | None:
        return self._file_labels(None, num_classes)[0]

    def _file_labels(self, targets: Tensor | None, num_classes: int) -> tuple[Tensor, Tensor]:
        """(clean, annotated) labels of the annotators (checked against `targets` when given)."""
        human = self.load_annotations(targets, num_classes)
        return human.clean, human.given


@register_noise_model
class CifarN(_Annotations):
    """Real human noise: the training part's given labels are a CIFAR-N file's (never downloaded)."""

    kind = "cifar_n"
    Options = CifarNOptions

    def load_annotations(self, targets: Tensor | None, num_classes: int) -> Any:
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.cifar_n_labels import load_human_noise

        return load_human_noise(self.cfg, targets)

    def annotator_votes(self, config: Mapping[str, Any]) -> bool:
        """CIFAR-10N's release has its three annotators' labels, CIFAR-100N's one label per image."""
        release = next((r for r in RELEASES if self.options.type in r.types), None)
        return release is not None and set(ANNOTATOR_KEYS) <= set(release.types.values())


@register_noise_model
class SimulatedAnnotators(_Annotations):
    """Three seeded annotators with class-confusion matrices: a laptop stand-in for CIFAR-10N (simulated noise)."""

    kind = "annotators"
    Options = AnnotatorsOptions

    def load_annotations(self, targets: Tensor | None, num_classes: int) -> Any:
        # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
        from repro.data.simulated_annotators import simulated_noise

        o = self.options
        return simulated_noise(o.type, tuple(float(r) for r in o.rates), int(o.seed), targets, num_classes)

    def annotator_votes(self, config: Mapping[str, Any]) -> bool:
        return True  # three simulated annotators label every image

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        if given is None and targets is None:  # before a run: the annotators' mean confusion
            # deferred: torch, kept from the reporting commands (repro tables/ledger read whether a config is noisy)
            from repro.data.simulated_annotators import confusion_matrices

            rates = tuple(float(r) for r in self.options.rates)
            return confusion_matrices(num_classes, rates, int(self.options.seed)).mean(0)
        return super().transition_matrix(num_classes, targets=targets, among=among, given=given)

    def true_labels(self, num_classes: int) -> Tensor | None:
        return None  # no file: the mean confusion above is over balanced classes
