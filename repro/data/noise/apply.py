"""The noise questions a run asks with tensors, each answered by the run's model (looked up by `noise.kind`):
`inject_noise` (the given labels), `load_file_noise` (the annotators' labels), `transition_matrix` (the model's
P(given | true)) and `actual_noise_rate` (the expected share of given labels that differ from the true ones).

Why apart from the package's __init__: these need torch; the questions a config alone answers (`describes_noise`,
the models' keys) stay torch-free there, for `repro tables` and `repro ledger`."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor

from repro.data.noise.checks import check_classes, check_inputs, on_cpu
from repro.data.noise.registry import noise_model


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
