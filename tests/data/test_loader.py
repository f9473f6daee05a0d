"""The batch loader (repro/data/loader.py): normalised batches of exactly the given indices, shuffled from the
caller's generator, augmented per sample, cycled forever; bad normalisation and indices refused."""

from __future__ import annotations

import pytest
import torch

from repro.data.loader import BatchLoader
from repro.errors import UserError


def _images(n: int = 20, channels: int = 3, size: int = 8) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8, generator=generator)


def test_loader_yields_normalised_batches_of_the_given_indices():
    images, targets = _images(), torch.arange(20) % 4
    indices = torch.tensor([3, 5, 7, 11, 13, 17, 19])
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    loader = BatchLoader(
        images,
        targets,
        indices,
        batch_size=3,
        shuffle=False,
        augment=False,
        mean=mean,
        std=std,
        generator=torch.Generator().manual_seed(0),
    )
    batches = list(loader)
    assert len(loader) == len(batches) == 3 and [b[0].shape[0] for b in batches] == [3, 3, 1]
    x, y, idx = batches[0]
    assert x.dtype == torch.float32 and x.shape == (3, 3, 8, 8) and y.dtype == idx.dtype == torch.int64
    assert torch.equal(idx, indices[:3]) and torch.equal(y, targets[idx])
    expected = (images[idx].float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(x, expected)
    dropped = BatchLoader(
        images,
        targets,
        indices,
        batch_size=3,
        shuffle=False,
        augment=False,
        mean=mean,
        std=std,
        generator=torch.Generator(),
        drop_last=True,
    )
    assert len(dropped) == len(list(dropped)) == 2


def test_loader_shuffles_from_the_callers_generator():
    images, targets = _images(), torch.arange(20)
    indices = torch.arange(4, 20)

    def epoch_order(seed: int, epochs: int = 1) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        loader = BatchLoader(
            images,
            targets,
            indices,
            batch_size=5,
            shuffle=True,
            augment=False,
            mean=(0.5,) * 3,
            std=(0.5,) * 3,
            generator=gen,
        )
        return [torch.cat([idx for _, _, idx in loader]) for _ in range(epochs)]

    first, second = epoch_order(0, epochs=2)
    assert torch.equal(first.sort().values, indices) and not torch.equal(first, second)
    assert torch.equal(epoch_order(0)[0], first) and not torch.equal(epoch_order(1)[0], first)


def test_augmentation_crops_and_flips_per_sample():
    n, size = 64, 8
    images = _images(n, size=size)
    # With std = 1/255 and mean = 0 the loader's output is the raw pixel value, so we can check it exactly.
    loader = BatchLoader(
        images,
        torch.zeros(n, dtype=torch.long),
        torch.arange(n),
        batch_size=n,
        shuffle=False,
        augment=True,
        mean=(0.0,) * 3,
        std=(1 / 255,) * 3,
        generator=torch.Generator().manual_seed(0),
    )
    x, _, idx = next(iter(loader))
    assert x.shape == (n, 3, size, size)
    x = x.round().to(torch.uint8)
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    seen = set()

    def crop(i: int, dy: int, dx: int, flip: bool) -> torch.Tensor:
        window = padded[i, :, dy : dy + size, dx : dx + size]
        return window.flip(-1) if flip else window

    for b in range(n):  # every output must be some (crop, flip) of its own padded image
        options = [(dy, dx, f) for dy in range(9) for dx in range(9) for f in (False, True)]
        match = [o for o in options if torch.equal(x[b], crop(int(idx[b]), *o))]
        assert match, f"sample {b} is not a crop/flip of its image"
        seen.update(match)
    assert len(seen) > 20  # crops and flips differ between samples
    assert any(f for _, _, f in seen) and any(not f for _, _, f in seen)
    assert not torch.equal(x, images)


def test_cycle_reshuffles_forever_and_refuses_an_empty_pass():
    images, targets = _images(), torch.arange(20)
    loader = BatchLoader(
        images,
        targets,
        torch.arange(6),
        batch_size=4,
        shuffle=True,
        augment=False,
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        generator=torch.Generator().manual_seed(0),
    )
    stream = loader.cycle()
    sizes = [next(stream)[2].numel() for _ in range(7)]
    assert sizes == [4, 2, 4, 2, 4, 2, 4]
    empty = BatchLoader(
        images,
        targets,
        torch.arange(3),
        batch_size=4,
        shuffle=True,
        augment=False,
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        generator=torch.Generator(),
        drop_last=True,
    )
    with pytest.raises(UserError, match="batch_size"):
        next(empty.cycle())


def test_loader_rejects_bad_normalisation_and_indices():
    images, targets = _images(), torch.arange(20)
    common = dict(batch_size=4, shuffle=False, augment=False, generator=torch.Generator())
    with pytest.raises(UserError, match="one value per image channel"):
        BatchLoader(images, targets, torch.arange(4), mean=(0.5,), std=(0.5,), **common)
    with pytest.raises(UserError, match="indices"):
        BatchLoader(images, targets, torch.tensor([0, 20]), mean=(0.5,) * 3, std=(0.5,) * 3, **common)
