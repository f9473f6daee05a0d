"""The data one run trains on, from its config: the data set (a stratified subset for quick runs), the split into a
training part and a held-out meta part, and the noise injected into the training part only."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from repro.data.arrays import ArrayDataset
from repro.data.datasets import load_dataset
from repro.data.noise.apply import inject_noise, load_file_noise
from repro.data.splits import make_split
from repro.training.hardware import Hardware


@dataclass
class RunData:
    """The data of one run and its split: `train_targets` are the labels the model is given (noisy where noise was
    injected), `train_idx` / `meta_idx` the split's training and held-out parts."""

    train: ArrayDataset
    test: ArrayDataset
    train_targets: torch.Tensor
    train_true_targets: torch.Tensor
    noisy_mask: torch.Tensor
    train_idx: torch.Tensor  # the training part of the split (global indices into `train`)
    meta_idx: torch.Tensor  # its held-out meta (validation) part; empty with split.full_train
    noise_record: dict[str, Any] = field(default_factory=dict)  # what the run records about its noise (summary)
    annotator_votes: torch.Tensor | None = None  # (N, 3) annotators' labels (CIFAR-10N, simulated annotators)
    # The label the noise model gives every training image, the held-out part's included (what a noisy held-out
    # split carries: Patrini et al.'s selection of the estimating network reads it), and whether the held-out part
    # keeps its clean labels (split.held_out_labels=clean) or carries those noisy ones.
    all_noisy_targets: torch.Tensor | None = None
    held_out_clean: bool = True

    @property
    def num_classes(self) -> int:
        return len(self.train.classes)


def load_run_data(cfg: DictConfig) -> RunData:
    """Load the data set, split off the meta set, inject noise into the training part only."""
    generator = cfg.data.get("generator")
    generator = OmegaConf.to_container(generator) if generator is not None else None
    train, test = load_dataset(str(cfg.data.name), cfg.data.root, generator)
    # Annotators' labels (noise=cifar_n / annotators) of the whole training set, checked before data.subset cuts it.
    human = load_file_noise(cfg.noise, train.targets, len(train.classes))
    keep = subset_indices(train, cfg.data.get("subset"), seed=int(cfg.split.seed))
    train = stratified_subset(train, cfg.data.get("subset"), seed=int(cfg.split.seed))
    human = human.subset(keep) if human is not None and keep is not None else human
    test = stratified_subset(test, cfg.data.get("test_subset"), seed=int(cfg.split.seed))
    true_targets = train.targets
    if cfg.split.full_train:
        train_idx = torch.arange(len(true_targets))
        meta_idx = torch.empty(0, dtype=torch.long)
    else:
        train_idx, meta_idx = make_split(
            true_targets,
            meta_fraction=float(cfg.split.meta_fraction),
            folds=int(cfg.split.folds),
            fold=int(cfg.split.fold),
            seed=int(cfg.split.seed),
        )
    num_classes = len(train.classes)
    given, noisy = inject_noise(cfg.noise, true_targets, num_classes=num_classes, among=train_idx, human=human)
    everywhere, _ = inject_noise(cfg.noise, true_targets, num_classes=num_classes, among=None, human=human)
    held_out_clean = held_out_labels(cfg.split) == "clean"
    if not held_out_clean:
        given[meta_idx] = everywhere[meta_idx]
        noisy = given != true_targets
    record = human.record(given, true_targets, train_idx) if human is not None else {}
    data = RunData(
        train=train,
        test=test,
        train_targets=given,
        train_true_targets=true_targets,
        noisy_mask=noisy,
        train_idx=train_idx,
        meta_idx=meta_idx,
        noise_record=record,
        annotator_votes=human.annotators if human is not None else None,
        all_noisy_targets=everywhere,
        held_out_clean=held_out_clean,
    )
    return data


def held_out_labels(split_cfg: Any) -> str:
    """split.held_out_labels: `clean` (the default: CIFAR's own labels, the paper's meta set) or `noisy` (the noise
    model's labels, like the training part's: a validation set that uses no clean label)."""
    return str(split_cfg.get("held_out_labels", "clean"))


def subset_indices(ds: ArrayDataset, size: int | None, *, seed: int) -> torch.Tensor | None:
    """The indices `stratified_subset` keeps, or None when it keeps the whole set."""
    if size is None or int(size) >= len(ds.targets):
        return None
    return make_split(ds.targets, meta_fraction=int(size) / len(ds.targets), folds=1, fold=0, seed=seed)[1]


def stratified_subset(ds: ArrayDataset, size: int | None, *, seed: int) -> ArrayDataset:
    """About `size` samples with every class keeping its share (a one-fold stratified split), for quick runs."""
    keep = subset_indices(ds, size, seed=seed)
    if keep is None:
        return ds
    return ArrayDataset(
        images=ds.images[keep],
        targets=ds.targets[keep],
        classes=ds.classes,
        mean=ds.mean,
        std=ds.std,
        augment=ds.augment,
    )


def hardware_data(data: RunData, hardware: Hardware) -> RunData:
    """The run's images on the GPU when they fit (loaders and evaluation then never copy pixels per batch)."""
    return replace(
        data,
        train=replace(data.train, images=hardware.place_images(data.train.images)),
        test=replace(data.test, images=hardware.place_images(data.test.images)),
    )
