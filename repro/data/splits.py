"""Stratified, seeded train / meta splits with disjoint cross-validation folds.

The paper holds out 20% of the training set as the meta set and learns labels in 5 folds; the noisy setting
holds out 2% (fold 0). Indices are global indices into the training arrays because instance labels are
addressed by them.
"""

from __future__ import annotations

import torch
from torch import Tensor

from repro.errors import UserError


def make_split(targets: Tensor, *, meta_fraction: float, folds: int, fold: int, seed: int) -> tuple[Tensor, Tensor]:
    """Split sample indices into (train_idx, meta_idx), both sorted int64 tensors of global indices.

    For each class `c` with `n_c` samples a permutation is drawn from a `torch.Generator` seeded by `seed`;
    fold `f` holds out positions `[round(f*q_c), round((f+1)*q_c))` of it, `q_c = meta_fraction * n_c`
    (round half up). Fold 0 therefore holds `round(meta_fraction * n_c)` samples of class `c`, every fold
    holds that many +-1, folds never overlap, and when `meta_fraction * folds == 1` they cover each sample once.
    A one-fold split (the noisy setting's) holds out at least one sample of every class with two or more, so that
    no class is missing from the meta set: on a small data.subset (CIFAR-100 at 2000 images: 20 per class, 2% of
    which rounds to none) the meta share of such a class is then 1 / n_c, above meta_fraction.
    """
    targets = _check_targets(targets)
    _check_split_arguments(meta_fraction=meta_fraction, folds=folds, fold=fold)

    classes, counts = torch.unique(targets, return_counts=True)
    _check_every_fold_has_meta_samples(classes, counts, meta_fraction=meta_fraction, folds=folds)

    generator = torch.Generator().manual_seed(int(seed))
    rank = _rank_within_class(targets, generator)
    class_slot = torch.searchsorted(classes, targets)
    lo = _boundary(counts, meta_fraction, fold)[class_slot]
    hi = _end_of_fold(counts, meta_fraction, fold, folds)[class_slot]
    in_meta = (rank >= lo) & (rank < hi)
    return torch.nonzero(~in_meta).flatten(), torch.nonzero(in_meta).flatten()


def _boundary(counts: Tensor, meta_fraction: float, fold: int) -> Tensor:
    """Start of fold `fold` within each class's permutation: round_half_up(fold * meta_fraction * n_c)."""
    position = torch.floor(counts.double() * (fold * meta_fraction) + 0.5).long()
    return torch.minimum(position, counts)


def _end_of_fold(counts: Tensor, meta_fraction: float, fold: int, folds: int) -> Tensor:
    """End of fold `fold` within each class's permutation; a one-fold split's fold holds at least one sample of
    every class with two or more (make_split's docstring)."""
    end = _boundary(counts, meta_fraction, fold + 1)
    return torch.where(counts >= 2, end.clamp(min=1), end) if folds == 1 else end


def _rank_within_class(targets: Tensor, generator: torch.Generator) -> Tensor:
    """Position of each sample in a seeded random order of its class (vectorised: no loop over classes)."""
    keys = torch.rand(targets.numel(), generator=generator)
    order = torch.argsort(keys)
    order = order[torch.argsort(targets[order], stable=True)]
    sorted_targets = targets[order]
    first_of_class = torch.searchsorted(sorted_targets, sorted_targets, side="left")
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel()) - first_of_class
    return rank


def _check_targets(targets: Tensor) -> Tensor:
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.dtype.is_floating_point:
        raise UserError(
            "make_split needs the training targets as a 1-D integer tensor of class indices; got "
            f"{type(targets).__name__} {getattr(targets, 'shape', '')} {getattr(targets, 'dtype', '')}. "
            "Pass ArrayDataset.targets of the training set."
        )
    if targets.numel() == 0:
        raise UserError("make_split got an empty target vector: the training set has no samples. Check the data set.")
    return targets.long().cpu()


def _check_split_arguments(*, meta_fraction: float, folds: int, fold: int) -> None:
    if not (isinstance(meta_fraction, (int, float)) and 0.0 < meta_fraction < 1.0):
        raise UserError(
            f"split.meta_fraction must be a number strictly between 0 and 1; got {meta_fraction!r}. "
            "The paper uses 0.2 for the supervised protocol and 0.02 for the noisy one."
        )
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 1:
        raise UserError(
            f"split.folds must be an integer >= 1; got {folds!r}. The paper uses 5 folds (1 for noisy runs)."
        )
    if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < folds:
        raise UserError(
            f"split.fold must be an integer in [0, {folds - 1}] (split.folds={folds}); got {fold!r}. "
            "Pick a fold index below split.folds."
        )
    if meta_fraction * folds > 1.0 + 1e-9:
        raise UserError(
            f"split.meta_fraction * split.folds must be at most 1 so that the folds' meta sets do not overlap; got "
            f"{meta_fraction} * {folds} = {meta_fraction * folds:g}. Lower meta_fraction to at most {1.0 / folds:g} "
            "or use fewer folds."
        )


def _check_every_fold_has_meta_samples(classes: Tensor, counts: Tensor, *, meta_fraction: float, folds: int) -> None:
    """A class with no meta sample in some fold makes the meta loss blind to it: refuse, naming the class."""
    for f in range(folds):
        sizes = _end_of_fold(counts, meta_fraction, f, folds) - _boundary(counts, meta_fraction, f)
        empty = torch.nonzero(sizes == 0).flatten()
        if empty.numel():
            slot = int(empty[0])
            c, n = int(classes[slot]), int(counts[slot])
            raise UserError(
                f"Class {c} has {n} training samples, so split.meta_fraction={meta_fraction} gives it no meta samples "
                f"in fold {f} of {folds} ({empty.numel()} class(es) affected). Raise split.meta_fraction to at least "
                f"1/{n} = {1.0 / n:.3g} (every class needs meta_fraction * n_c >= 1) or use fewer folds."
            )
