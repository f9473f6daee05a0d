"""A label noise model's kind: one class that carries its `noise.*` keys and answers what the code asks about the
noise, and the registry `noise.kind` names models in (as repro/labels/registry.py does for label kinds).

Why: the kind used to be a string compared in four functions and its choices listed twice (the config rules and
this package). Now `noise.kind=<name>` selects a registered `NoiseModel` subclass: its `Options` (a @schema class,
repro/schema/declare.py) is the one declaration of its keys, and its methods are its injection, its transition
matrix and whether it is noise at all. The built-in models are in synthetic.py and annotator_noise.py; a new one
subclasses `NoiseModel` and is decorated with `@register_noise_model`."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import torch
from torch import Tensor

from repro.errors import UserError
from repro.schema import build, refuse


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


# -- inputs every model checks ---------------------------------------------------------------------------------
def on_cpu(targets: Any) -> Any:
    return targets.cpu() if isinstance(targets, Tensor) else targets


def check_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise UserError(
            f"The noise model needs num_classes >= 2; got {num_classes!r}. Pass the data set's class count."
        )
    return num_classes


def check_inputs(targets: Tensor, fraction: float, num_classes: int, among: Tensor | None) -> tuple[Tensor, Tensor]:
    """(targets as int64, boolean mask of `among`) after checking the arguments a model is called with."""
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.dtype.is_floating_point:
        raise UserError(
            "The noise model needs the training targets as a 1-D integer tensor of class indices; got "
            f"{type(targets).__name__} {getattr(targets, 'shape', '')}. Pass ArrayDataset.targets."
        )
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise UserError(
            f"noise.fraction must be a number in [0, 1); got {fraction!r}. The paper uses 0.2, 0.4, 0.6 and 0.8."
        )
    check_classes(num_classes)
    targets = targets.long()
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise UserError(
            f"Targets must lie in [0, {num_classes - 1}] for num_classes={num_classes}; found values in "
            f"[{int(targets.min())}, {int(targets.max())}]. Pass the data set's true number of classes."
        )
    return targets, selection_mask(among, targets.numel())


def selection_mask(among: Tensor | None, n: int) -> Tensor:
    if among is None:
        return torch.ones(n, dtype=torch.bool)
    among = torch.as_tensor(among).cpu()
    if among.dtype == torch.bool:
        if among.shape != (n,):
            raise UserError(
                f"`among` as a boolean mask must have one entry per sample ({n}); got shape {tuple(among.shape)}. "
                "Pass a mask over the training targets or the split's train_idx."
            )
        return among
    if among.dim() != 1 or among.dtype.is_floating_point:
        raise UserError(
            "`among` must be a 1-D tensor of global sample indices (e.g. the split's train_idx) or a boolean mask."
        )
    if among.numel() and (int(among.min()) < 0 or int(among.max()) >= n):
        raise UserError(f"`among` holds indices outside [0, {n - 1}]: pass global indices into the training targets.")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[among.long()] = True
    return mask
