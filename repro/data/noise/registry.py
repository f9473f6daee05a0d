"""A label noise model's kind: one class that carries its `noise.*` keys and answers what the code asks about the
noise, and the registry `noise.kind` names models in (as repro/labels/registry.py does for label kinds).

Why: the kind used to be a string compared in four functions and its choices listed twice (the config rules and
this package). Now `noise.kind=<name>` selects a registered `NoiseModel` subclass: its `Options` (a @schema class,
repro/schema/declare.py) is the one declaration of its keys, and its methods are its injection, its transition
matrix and whether it is noise at all. The built-in models are in synthetic.py and annotator_noise.py; a new one
subclasses `NoiseModel` and is decorated with `@register_noise_model`.

A model's declaration (its kind, keys and the answers a config alone gives: `describes_noise`, `annotator_votes`)
imports no torch, so that `repro tables` and `repro ledger`, which ask whether a planned run is noisy, load none; the
tensor work its other methods do lives in torch modules they import when called (synthetic_tensors.py,
annotator_tensors.py; the inputs every model checks in checks.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from repro.schema import build, refuse

if TYPE_CHECKING:
    from torch import Tensor


class NoiseModel:
    """One label noise model, built from a run's `noise` node (checked against `Options` when the config loaded).

    kind           the `noise.kind` value that selects it
    Options        its keys: a @schema class (`kind` and the model's own keys)
    annotations    its given labels are annotators' (a CIFAR-N file, simulated annotators): no fraction, its T and
                   rate are the empirical ones of the run's training part, counted from clean labels
    """

    kind: ClassVar[str]
    Options: ClassVar[type]
    annotations: ClassVar[bool] = False

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.cfg = cfg  # the node as given (the annotators' loaders read it)
        self.options = build(self.Options, cfg)

    def describes_noise(self) -> bool:
        """Whether the run's training labels carry any noise."""
        return False

    def load_annotations(self, targets: Tensor, num_classes: int) -> Any:
        """The annotators' labels of the whole training set `targets` (repro.data.cifar_n.HumanNoise), or None."""
        return None

    def inject(
        self, targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None
    ) -> tuple[Tensor, Tensor]:
        """(given_targets, noisy_mask) over the training part `among`; `targets` itself is left untouched."""
        raise NotImplementedError

    def transition_matrix(
        self, num_classes: int, *, targets: Tensor | None, among: Tensor | None, given: Tensor | None
    ) -> Tensor:
        """The (C, C) float64 row-stochastic T[i, j] = P(given j | true i) over the noised samples."""
        raise NotImplementedError

    def annotator_votes(self, config: Mapping[str, Any]) -> bool:
        """Whether a run of `config` has several annotators' labels per image (what the annotator-agreement recorder
        reads), from the config alone."""
        return False

    def true_labels(self, num_classes: int) -> Tensor | None:
        """The true labels whose class priors weigh the actual noise rate when the caller has none (an annotators'
        file holds them); None: balanced classes."""
        return None


NOISE_MODELS: dict[str, type[NoiseModel]] = {}


def register_noise_model(model: type[NoiseModel]) -> type[NoiseModel]:
    """Make `noise.kind=<model.kind>` select `model` (usable as a class decorator). A kind registered twice must be
    the same class: two models under one name would make a run's noise depend on import order."""
    known = NOISE_MODELS.get(model.kind)
    if known is not None and known is not model:
        raise ValueError(f"noise model {model.kind!r} is registered already ({known.__module__}.{known.__qualname__})")
    NOISE_MODELS[model.kind] = model
    return model


def noise_model_class(kind: Any, *, key: str = "noise.kind") -> type[NoiseModel]:
    """The model `noise.kind=kind` selects; the config error every value gives when none does."""
    model = NOISE_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        refuse(key, kind, "one of " + ", ".join(repr(k) for k in NOISE_MODELS) + " (the noise models; noise=<kind>)")
    return model  # type: ignore[return-value]


def noise_model(noise_cfg: Mapping[str, Any]) -> NoiseModel:
    """The noise model of a run's `noise` node; keys it leaves out take their declared defaults."""
    return noise_model_class(noise_cfg.get("kind", "none"))(noise_cfg)
