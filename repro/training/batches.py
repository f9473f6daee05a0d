"""Where a run's batches come from: the training loader, in an order drawn from its own generator, and a fresh random
meta batch each step from another (`Batches`); both generators' states are in the checkpoint, so a resumed run draws
exactly what an uninterrupted one would. `Batch` and `MetaBatch` are what a method and the meta-gradient engine
(repro/meta/) are handed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from omegaconf import DictConfig
from torch import Tensor

from repro.data.loader import BatchLoader
from repro.training.hardware import Hardware
from repro.training.run_data import RunData


class Batch(NamedTuple):
    """A training batch as the loop hands it to a method: inputs, given labels, global sample indices."""

    x: Tensor
    y: Tensor
    idx: Tensor


class MetaBatch(NamedTuple):
    """A clean meta batch: its inputs and their (clean) labels."""

    x: Tensor
    y: Tensor


def meta_batch_size(method_cfg: Any, n_meta: int) -> int:
    """The meta batch a run draws each step: method.meta_batch_size (default 256, the paper's), at most the meta
    set (the cost estimate prices a look-ahead step's meta part by it)."""
    return min(int(method_cfg.get("meta_batch_size", 256)), int(n_meta))


@dataclass
class Batches:
    """The training loader and the meta draws of one run, with the two generators they draw from."""

    train: BatchLoader
    meta: BatchLoader | None  # None: no held-out part (split.full_train)
    meta_idx: Tensor
    meta_batch: int  # the meta batch drawn each step (`meta_batch_size`)
    train_gen: torch.Generator
    meta_gen: torch.Generator
    hardware: Hardware

    @classmethod
    def build(cls, cfg: DictConfig, data: RunData, hardware: Hardware) -> Batches:
        """The loaders of `data`'s split, their generators seeded from `cfg.seed` (the meta draws from seed + 1)."""
        seed = int(cfg.seed)
        train_gen = torch.Generator().manual_seed(seed)
        meta_gen = torch.Generator().manual_seed(seed + 1)
        common = dict(mean=data.train.mean, std=data.train.std, augment=data.train.augment)
        train = BatchLoader(
            data.train.images,
            data.train_targets,
            data.train_idx,
            batch_size=int(cfg.data.batch_size),
            shuffle=True,
            generator=train_gen,
            **common,
        )
        meta = None
        if data.meta_idx.numel():
            # Meta labels are the clean (true) labels: noise is only ever injected into the training part.
            meta = BatchLoader(
                data.train.images,
                data.train_true_targets,
                data.meta_idx,
                batch_size=int(cfg.method.get("meta_batch_size", 256)),
                shuffle=True,
                generator=meta_gen,
                **common,
            )
        size = meta_batch_size(cfg.method, data.meta_idx.numel())
        return cls(train, meta, data.meta_idx, size, train_gen, meta_gen, hardware)

    def next_meta(self) -> MetaBatch:
        """A fresh random meta batch each step (stateless but for the generator, so resuming is exact)."""
        assert self.meta is not None
        n = self.meta_idx.numel()
        pick = self.meta_idx[torch.randperm(n, generator=self.meta_gen)[: self.meta_batch]]
        x, y, _ = self.meta.batch(pick)
        # non-blocking: no host sync in the middle of a step
        return MetaBatch(self.hardware.prepare_batch(x), y.to(self.hardware.device, non_blocking=True))

    def rng_state(self) -> dict[str, Tensor]:
        """The generators' states, for the checkpoint."""
        return {"train": self.train_gen.get_state(), "meta": self.meta_gen.get_state()}

    def load_rng_state(self, state: dict[str, Any]) -> None:
        self.train_gen.set_state(state["train"])
        self.meta_gen.set_state(state["meta"])
