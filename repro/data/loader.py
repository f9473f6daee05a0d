"""Mini-batches straight from in-memory tensors (uint8 pixels or float32 signals), with vectorised CIFAR augmentation.

A DataLoader with per-image PIL transforms costs more than a small model's step on 2 CPU cores; gathering a
whole batch with one indexing op does not. The caller owns the `torch.Generator`, so its state goes into the
checkpoint and a resumed run draws the same shuffles and crops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from repro.data.arrays import IMAGE_DTYPES, unit_scale
from repro.errors import UserError

Batch = tuple[Tensor, Tensor, Tensor]


class BatchLoader:
    """Iterate `(x float32 [B,C,H,W] normalised, y int64 [B], idx int64 [B] global)` over `indices`.

    Each pass draws a permutation of `indices` from `generator` (if `shuffle`); with `augment`, each sample
    gets a random crop of its image zero-padded by `padding` pixels and a random horizontal flip (torchvision's
    RandomCrop(padding=4) + RandomHorizontalFlip, applied before normalisation). Random numbers are drawn on
    the CPU, so `images` may live on any device.
    """

    def __init__(
        self,
        images: Tensor,
        targets: Tensor,
        indices: Tensor,
        *,
        batch_size: int,
        shuffle: bool,
        augment: bool,
        mean: Sequence[float],
        std: Sequence[float],
        generator: torch.Generator,
        drop_last: bool = False,
        padding: int = 4,
    ) -> None:
        _check_arrays(images, targets, indices)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise UserError(
                f"batch_size must be a positive integer; got {batch_size!r}. "
                "Set optim.batch_size (or the meta batch size) to a positive integer."
            )
        if padding < 0:
            raise UserError(f"Augmentation padding must be >= 0; got {padding}.")
        channels = images.shape[1]
        if len(mean) != channels or len(std) != channels or min(std) <= 0:
            raise UserError(
                f"mean and std need one value per image channel ({channels}) and std must be positive; got "
                f"mean={list(mean)}, std={list(std)}. Use the data set's ArrayDataset.mean / .std."
            )
        self.images = images
        self.targets = targets.long()
        self.indices = indices.long().cpu()
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.generator = generator
        self.drop_last = drop_last
        self.padding = padding
        self._mean = torch.tensor(list(mean), dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
        self._std = torch.tensor(list(std), dtype=torch.float32, device=images.device).view(1, -1, 1, 1)

    def __len__(self) -> int:
        """Number of batches per pass."""
        n = self.indices.numel()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        order = self.indices
        if self.shuffle:
            order = order[torch.randperm(order.numel(), generator=self.generator)]
        for b in range(len(self)):
            yield self.batch(order[b * self.batch_size : (b + 1) * self.batch_size])

    def cycle(self) -> Iterator[Batch]:
        """Batches forever, reshuffling at every pass (the meta set is drawn from this)."""
        if len(self) == 0:
            raise UserError(
                f"Cannot cycle over {self.indices.numel()} samples with batch_size={self.batch_size} "
                "and drop_last=True: "
                "no full batch exists. Lower the batch size or enlarge the set (e.g. split.meta_fraction)."
            )
        while True:
            yield from self

    def batch(self, idx: Tensor) -> Batch:
        """The batch of the given global indices (augmented if the loader augments), e.g. a random meta batch."""
        # Copies to the GPU are non-blocking: a blocking one waits for every kernel queued so far (a host sync per
        # batch). The targets are read with `idx` itself (on the CPU with the targets), not with its GPU copy: that
        # copy back would be a device-to-host sync.
        pixels = self.images[idx.to(self.images.device, non_blocking=True)]
        if self.augment:
            pixels = self._crop_and_flip(pixels)
        x = (unit_scale(pixels) - self._mean) / self._std
        return x, self.targets[idx.to(self.targets.device)], idx

    def _crop_and_flip(self, pixels: Tensor) -> Tensor:
        """One gather does both: output pixel (r, c) of sample b reads padded[b, :, r + dy_b, c' + dx_b],
        with c' = W-1-c for flipped samples."""
        b, channels, height, width = pixels.shape
        pad = self.padding
        offsets = torch.randint(0, 2 * pad + 1, (2, b), generator=self.generator)
        flip = torch.rand(b, generator=self.generator) < 0.5
        dy, dx = offsets.to(pixels.device, non_blocking=True)
        flip = flip.to(pixels.device, non_blocking=True)
        padded = torch.nn.functional.pad(pixels, (pad, pad, pad, pad))
        rows = dy[:, None] + torch.arange(height, device=pixels.device)
        columns = torch.arange(width, device=pixels.device).expand(b, width)
        columns = torch.where(flip[:, None], columns.flip(1), columns) + dx[:, None]
        return padded[
            torch.arange(b, device=pixels.device)[:, None, None, None],
            torch.arange(channels, device=pixels.device)[None, :, None, None],
            rows[:, None, :, None],
            columns[:, None, None, :],
        ]


def _check_arrays(images: Tensor, targets: Tensor, indices: Tensor) -> None:
    if not isinstance(images, Tensor) or images.dim() != 4 or images.dtype not in IMAGE_DTYPES:
        raise UserError(
            "BatchLoader needs images as a uint8 or float32 tensor [N, C, H, W]; got "
            f"{getattr(images, 'dtype', type(images))} "
            f"{tuple(getattr(images, 'shape', ()))}. Pass ArrayDataset.images."
        )
    if not isinstance(targets, Tensor) or targets.shape != (images.shape[0],):
        raise UserError(
            f"BatchLoader needs one target per image ({images.shape[0]}); got shape {tuple(targets.shape)}. "
            "Pass ArrayDataset.targets of the same data set."
        )
    if not isinstance(indices, Tensor) or indices.dim() != 1 or indices.dtype.is_floating_point:
        raise UserError(
            "BatchLoader needs `indices` as a 1-D integer tensor of global sample indices (e.g. a split's train_idx)."
        )
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= images.shape[0]):
        raise UserError(
            f"BatchLoader got indices outside [0, {images.shape[0] - 1}]: pass global indices into the images."
        )
