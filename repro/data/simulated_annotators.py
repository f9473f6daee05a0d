"""SIMULATED annotators (`noise=annotators`): a laptop-sized stand-in for CIFAR-10N's three human annotators, for
any data set (the digits demo). The noise is simulated, not human: it only imitates CIFAR-10N's structure.

Each annotator a has a class-confusion matrix M_a (row i: the label it gives an image of class i): it is right with
probability 1 - rate_a and otherwise names one of the class's two "look-alike" classes (a seeded pick per class,
shared by all annotators: 70% / 30% of the error mass), so the errors concentrate on class pairs as human errors
do. Every training image gets one label from each annotator; the given label is then picked as CIFAR-10N's
types are (repro/data/cifar_n.py): `random1..3` one annotator, `aggre` the majority (annotator 1 when all three
differ), `worse` the first wrong annotation (the clean label when all are right). The keys (label type, rates,
seed) and their defaults are declared with the model, `noise=annotators` (repro/data/noise/annotator_noise.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from repro.data.cifar_n import HumanNoise
from repro.errors import UserError

LOOK_ALIKE_SHARES = (0.7, 0.3)


def confusion_matrices(num_classes: int, rates: tuple[float, ...], seed: int) -> Tensor:
    """(A, C, C) row-stochastic matrices, one per annotator (module docstring)."""
    if num_classes < 3:
        raise UserError(f"noise=annotators needs at least 3 classes (two look-alikes per class); got {num_classes}.")
    generator = torch.Generator().manual_seed(int(seed))
    look_alike = torch.zeros(num_classes, num_classes, dtype=torch.float64)
    for c in range(num_classes):
        others = torch.tensor([k for k in range(num_classes) if k != c])
        pick = others[torch.randperm(others.numel(), generator=generator)[:2]]
        look_alike[c, pick] = torch.tensor(LOOK_ALIKE_SHARES, dtype=torch.float64)
    eye = torch.eye(num_classes, dtype=torch.float64)
    return torch.stack([(1 - r) * eye + r * look_alike for r in rates])


def simulate_votes(targets: Tensor, num_classes: int, rates: tuple[float, ...], seed: int) -> Tensor:
    """(N, A) int64: each annotator's label of every image, drawn from its confusion row (seeded, per image)."""
    matrices = confusion_matrices(num_classes, rates, seed)
    generator = torch.Generator().manual_seed(int(seed) + 1)
    rows = [torch.multinomial(m[targets.long()], 1, generator=generator).squeeze(1) for m in matrices]
    return torch.stack(rows, dim=1)


def given_from_votes(votes: Tensor, clean: Tensor, kind: str) -> Tensor:
    """CIFAR-10N's label types from three annotations (module docstring)."""
    if kind.startswith("random"):
        return votes[:, int(kind[-1]) - 1].clone()
    if kind == "aggre":
        agree_12, agree_13, agree_23 = (
            (votes[:, 0] == votes[:, 1]),
            (votes[:, 0] == votes[:, 2]),
            (votes[:, 1] == votes[:, 2]),
        )
        return torch.where(agree_12 | agree_13, votes[:, 0], torch.where(agree_23, votes[:, 1], votes[:, 0]))
    wrong = votes != clean[:, None]
    first_wrong = votes.gather(1, wrong.int().argmax(1, keepdim=True)).squeeze(1)
    return torch.where(wrong.any(1), first_wrong, clean)


def simulated_noise(kind: str, rates: tuple[float, ...], seed: int, targets: Tensor, num_classes: int) -> Any:
    """The run's simulated annotations as a repro.data.cifar_n.HumanNoise (no file, no md5): label type `kind`, the
    annotators' error `rates` and `seed` as their declaration (repro/data/noise/annotator_noise.py) checked them."""
    targets = targets.long().cpu()
    votes = simulate_votes(targets, num_classes, rates, seed)
    return HumanNoise(None, None, kind, given_from_votes(votes, targets, kind), targets, votes)
