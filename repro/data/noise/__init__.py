"""Label noise models (`noise.kind`), injected into the training part only; meta and test labels stay clean.

Each model is one registered class (registry.py: `NoiseModel`, `register_noise_model`) that declares its `noise.*`
keys and answers the questions below; the built-in ones are synthetic.py (`none`, `uniform`, `exact_fraction`) and
annotator_noise.py (`cifar_n`: a CIFAR-N file's human labels; `annotators`: simulated annotators). These functions are
the package's public face: each looks the run's model up by `noise.kind` and asks it.

- `inject_noise`: the given labels; `transition_matrix`: the model's P(given | true); `actual_noise_rate`: the
  expected share of given labels that differ from the true ones; `describes_noise`: whether there is noise at all.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor

from repro.conf.schema import NOISE_OPTIONS
from repro.data.noise import annotator_noise as _annotator_noise  # noqa: F401  (registers cifar_n, annotators)
from repro.data.noise.registry import (
    NOISE_MODELS,
    NoiseModel,
    check_classes,
    check_inputs,
    noise_model,
    noise_model_class,
    on_cpu,
    register_noise_model,
)
from repro.data.noise.synthetic import corrupted_count, inject_exact_fraction_noise, inject_uniform_noise

__all__ = [
    "NOISE_MODELS",
    "NoiseModel",
    "actual_noise_rate",
    "corrupted_count",
    "describes_noise",
    "inject_exact_fraction_noise",
    "inject_noise",
    "inject_uniform_noise",
    "load_file_noise",
    "noise_model",
    "noise_model_class",
    "noise_options",
    "register_noise_model",
    "transition_matrix",
    "transition_reads_clean_labels",
]


def noise_options(node: Any, key: str = "noise") -> type:
    """The declaration of a run's `noise` node: the keys of the noise model its `kind` names (a config error naming
    `<key>.kind` when it names none). The config's schema reads it through `NOISE_OPTIONS`, filled below."""
    return noise_model_class(node.get("kind") if isinstance(node, Mapping) else None, key=f"{key}.kind").Options


NOISE_OPTIONS.fill(noise_options)


def describes_noise(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the config asks for any label noise (a file of human labels always does)."""
    return noise_model(noise_cfg).describes_noise()


def transition_reads_clean_labels(noise_cfg: Mapping[str, Any]) -> bool:
    """Whether the model's known T is counted from clean labels (annotators' noise) rather than known from its
    parameters (the synthetic models): a method that uses it then uses those clean labels."""
    return noise_model_class(noise_cfg.get("kind", "none")).annotations


def load_file_noise(noise_cfg: Mapping[str, Any], targets: Tensor, num_classes: int) -> Any:
    """The annotators' labels (repro.data.cifar_n.HumanNoise) of the whole training set `targets` (a CIFAR-N file's,
    checked against them, or simulated ones); None for the models that draw their noise in `inject_noise`."""
    return noise_model(noise_cfg).load_annotations(targets, num_classes)


def inject_noise(
    noise_cfg: Mapping[str, Any], targets: Tensor, *, num_classes: int, among: Tensor | None, human: Any = None
) -> tuple[Tensor, Tensor]:
    """(given_targets, noisy_mask) for the run's `noise` config; a copy of `targets` when there is no noise.
    `human`: for the annotators' models, their labels already aligned with `targets` (loaded here when not given)."""
    return noise_model(noise_cfg).inject(targets, num_classes=num_classes, among=among, human=human)


def transition_matrix(
    noise_cfg: Mapping[str, Any],
    num_classes: int,
    *,
    targets: Tensor | None = None,
    among: Tensor | None = None,
    given: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The noise model's (C, C) row-stochastic matrix T[i, j] = P(given label j | true class i) over the noised
    (training) samples. Contract (kept stable for loss correction): float `dtype` on the CPU, rows sum to 1,
    identity for noise=none or fraction 0. Each model's form is on its class (synthetic.py, annotator_noise.py)."""
    C = check_classes(num_classes)
    return noise_model(noise_cfg).transition_matrix(C, targets=targets, among=among, given=given).to(dtype)


def actual_noise_rate(
    noise_cfg: Mapping[str, Any],
    num_classes: int,
    *,
    targets: Tensor | None = None,
    among: Tensor | None = None,
    given: Tensor | None = None,
) -> float:
    """The expected fraction of training labels that differ from the true ones: 1 - sum_i prior_i T[i, i], with the
    class priors of the training part (`targets`/`among`) or balanced classes. uniform: fraction * (C - 1) / C
    (0.36 on CIFAR-10 at 40%, whatever the priors); exact_fraction: (m / n) (1 - sum_j (s_j / m)^2)."""
    C = check_classes(num_classes)
    model = noise_model(noise_cfg)
    T = model.transition_matrix(C, targets=targets, among=among, given=given)
    if targets is None:
        targets = model.true_labels(C)
    if targets is None:
        prior = torch.full((C,), 1.0 / C, dtype=torch.float64)
    else:
        true, selected = check_inputs(on_cpu(targets), 0.0, C, among)
        counts = torch.bincount(true[selected], minlength=C).double()
        prior = counts / counts.sum().clamp(min=1)
    return float(1.0 - (prior * T.diagonal()).sum())
