"""Uniform label noise, as in the paper (and Meta-Weight-Net): each label becomes a uniformly random class
with probability `fraction`; the random class may equal the true one."""

from __future__ import annotations

import torch
from torch import Tensor

from repro.errors import UserError


def inject_uniform_noise(
    targets: Tensor, *, fraction: float, num_classes: int, seed: int, among: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Return (noisy_targets, noisy_mask); `targets` itself is left untouched (it is the record of true classes).

    Random numbers are drawn for *all* samples from a generator seeded by `seed`, then applied only to
    `among` (global indices, or a boolean mask; None = all samples). So the noise on sample i depends only
    on the seed, not on which fold's meta set was excluded. `noisy_mask` marks labels that actually changed;
    its expected rate over `among` is `fraction * (num_classes - 1) / num_classes`.
    """
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.dtype.is_floating_point:
        raise UserError(
            "inject_uniform_noise needs the training targets as a 1-D integer tensor of class indices; got "
            f"{type(targets).__name__} {getattr(targets, 'shape', '')}. Pass ArrayDataset.targets."
        )
    if not (isinstance(fraction, (int, float)) and 0.0 <= fraction < 1.0):
        raise UserError(
            f"noise.fraction must be a number in [0, 1); got {fraction!r}. The paper uses 0.2, 0.4, 0.6 and 0.8."
        )
    if not isinstance(num_classes, int) or num_classes < 2:
        raise UserError(
            f"inject_uniform_noise needs num_classes >= 2; got {num_classes!r}. Pass the data set's class count."
        )
    targets = targets.long()
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise UserError(
            f"Targets must lie in [0, {num_classes - 1}] for num_classes={num_classes}; found values in "
            f"[{int(targets.min())}, {int(targets.max())}]. Pass the data set's true number of classes."
        )
    selected = _selection_mask(among, targets.numel())

    generator = torch.Generator().manual_seed(int(seed))
    flip = torch.rand(targets.numel(), generator=generator) < fraction
    random_class = torch.randint(0, num_classes, (targets.numel(),), generator=generator)
    replace = (flip & selected).to(targets.device)
    noisy_targets = torch.where(replace, random_class.to(targets.device), targets)
    return noisy_targets, noisy_targets != targets


def _selection_mask(among: Tensor | None, n: int) -> Tensor:
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
