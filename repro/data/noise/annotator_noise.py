"""The annotators' noise models: the given label of a training image is an annotator's (`cifar_n`: a CIFAR-N file's
human labels, repro/data/cifar_n.py; `annotators`: three SIMULATED annotators, repro/data/simulated_annotators.py).
They have no fraction: which labels differ is the annotations' answer, so their T and rate are the empirical ones of
the run's training part, counted from its clean labels."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor

from repro.data.cifar_n import ANNOTATOR_KEYS, NOISE_TYPES, RELEASES, load_human_noise
from repro.data.noise.registry import NoiseModel, check_inputs, on_cpu, register_noise_model
from repro.data.simulated_annotators import DEFAULT_RATES, TYPES, confusion_matrices, simulated_noise
from repro.errors import UserError
from repro.schema import option, schema


def _cifar_n_types() -> tuple[str, ...]:
    return tuple(NOISE_TYPES)


def _simulated_types() -> tuple[str, ...]:
    return tuple(TYPES)


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
        targets, selected = check_inputs(targets, 0.0, num_classes, among)
        if human is None:
            human = self.load_annotations(targets, num_classes)
        given = torch.where(selected.to(targets.device), human.given.to(targets.device), targets)
        return given, given != targets

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
        true, selected = check_inputs(on_cpu(targets), 0.0, num_classes, among)
        given = on_cpu(given).long()
        counts = torch.zeros(num_classes, num_classes, dtype=torch.float64)
        counts.index_put_(
            (true[selected], given[selected]), torch.ones(int(selected.sum()), dtype=torch.float64), accumulate=True
        )
        rows = counts.sum(dim=1, keepdim=True)
        eye = torch.eye(num_classes, dtype=torch.float64)
        return torch.where(rows > 0, counts / rows.clamp(min=1), eye)

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
        return simulated_noise(self.cfg, targets, num_classes)

    def annotator_votes(self, config: Mapping[str, Any]) -> bool:
        return True  # three simulated annotators label every image

    def transition_matrix(self, num_classes: int, *, targets=None, among=None, given=None) -> Tensor:
        if given is None and targets is None:  # before a run: the annotators' mean confusion
            rates = tuple(float(r) for r in self.options.rates)
            return confusion_matrices(num_classes, rates, int(self.options.seed)).mean(0)
        return super().transition_matrix(num_classes, targets=targets, among=among, given=given)

    def true_labels(self, num_classes: int) -> Tensor | None:
        return None  # no file: the mean confusion above is over balanced classes
