"""The annotators' noise models' tensor work (annotator_noise.py declares the models): their labels put in place of
the training part's, and the empirical T counted from the clean labels.

Why apart: the declarations are read without torch (whether a planned run is noisy, in `repro tables` and `repro
ledger`); a model's `inject` and `transition_matrix` import this module when called."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.data.noise.checks import check_inputs, on_cpu


def given_over_training(targets: Tensor, num_classes: int, among: Tensor | None, human: Any) -> tuple[Tensor, Tensor]:
    """(given, noisy_mask): the annotators' labels (`human.given`, aligned with `targets`) on the training part
    `among`, the true ones elsewhere."""
    targets, selected = check_inputs(targets, 0.0, num_classes, among)
    given = torch.where(selected.to(targets.device), human.given.to(targets.device), targets)
    return given, given != targets


def empirical_transition(targets: Tensor, given: Tensor, num_classes: int, among: Tensor | None) -> Tensor:
    """T[i, j] = share of the (selected) samples of true class i given label j; identity row for an absent class."""
    true, selected = check_inputs(on_cpu(targets), 0.0, num_classes, among)
    given = on_cpu(given).long()
    counts = torch.zeros(num_classes, num_classes, dtype=torch.float64)
    counts.index_put_(
        (true[selected], given[selected]), torch.ones(int(selected.sum()), dtype=torch.float64), accumulate=True
    )
    rows = counts.sum(dim=1, keepdim=True)
    eye = torch.eye(num_classes, dtype=torch.float64)
    return torch.where(rows > 0, counts / rows.clamp(min=1), eye)
