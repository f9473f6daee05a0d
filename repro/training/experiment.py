"""Everything one run trains with, built from its config: data, split, noise, model, optimizer, schedule; the
method that trains on each batch (repro.methods) is built on it by repro.train.build_experiment.

Its `state_dict` is exactly what a checkpoint must hold for a resumed run to end where an uninterrupted one does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from repro.data import ArrayDataset, BatchLoader, inject_noise, load_dataset, make_split
from repro.data.noise import load_file_noise
from repro.models import build_model, check_input
from repro.runs.rundir import RunDir
from repro.training.clean_labels import summary_fields
from repro.training.hardware import Hardware
from repro.training.protocols import Recorder, TrainingMethod
from repro.training.schedule import RunSchedule, iteration_based, planned_steps, steps_in_epoch


@dataclass
class RunData:
    """The data of one run: `train_targets` are the labels the model is given (noisy where noise was injected)."""

    train: ArrayDataset
    test: ArrayDataset
    train_targets: torch.Tensor
    train_true_targets: torch.Tensor
    noisy_mask: torch.Tensor
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


def load_run_data(cfg: DictConfig) -> tuple[RunData, torch.Tensor, torch.Tensor]:
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
        noise_record=record,
        annotator_votes=human.annotators if human is not None else None,
        all_noisy_targets=everywhere,
        held_out_clean=held_out_clean,
    )
    return data, train_idx, meta_idx


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


def lr_lambda(optim_cfg: DictConfig):
    """Per-epoch multiplier of the base lr: linear warm-up, then cosine (down to `optim.lr_floor` of the peak) /
    multistep / constant."""
    epochs, warmup = int(optim_cfg.epochs), int(optim_cfg.get("warmup_epochs", 0))
    floor = float(optim_cfg.get("lr_floor", 0.0) or 0.0)
    schedule = str(optim_cfg.schedule)
    milestones = [int(round(f * epochs)) for f in optim_cfg.get("milestones", [])]
    gamma = float(optim_cfg.get("gamma", 0.1))

    def factor(epoch: int) -> float:
        if epoch < warmup:
            return (epoch + 1) / warmup
        if schedule == "cosine":
            span = max(epochs - warmup, 1)
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / span))
        if schedule == "multistep":
            return gamma ** sum(epoch >= m for m in milestones)
        return 1.0

    return factor


def sgd_with_schedule(model: torch.nn.Module, optim_cfg: DictConfig) -> tuple[torch.optim.SGD, RunSchedule]:
    """The run's model optimizer (SGD from cfg.optim) and its schedule (per epoch, or per step with
    optim.iterations: repro/training/schedule.py); a method with a second network (co-teaching) builds that network's
    pair
    here too, so both train alike (it calls the schedule's after_step / after_epoch as the loop does)."""
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=float(optim_cfg.lr),
        momentum=float(optim_cfg.momentum),
        nesterov=bool(optim_cfg.nesterov),
        weight_decay=float(optim_cfg.weight_decay),
    )
    epoch_lambda = None if iteration_based(optim_cfg) else lr_lambda(optim_cfg)
    return optimizer, RunSchedule(optimizer, optim_cfg, epoch_lambda)


@dataclass
class Experiment:
    cfg: DictConfig
    run_dir: RunDir
    data: RunData
    train_idx: torch.Tensor
    meta_idx: torch.Tensor
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_loader: BatchLoader
    meta_loader: BatchLoader | None
    train_gen: torch.Generator
    meta_gen: torch.Generator
    device: torch.device
    method: TrainingMethod | None = None  # built on this state one layer up (repro.train.build_experiment)
    recorders: list[Recorder] = field(default_factory=list)
    hardware: Hardware | None = None  # device, precision, memory format, compiled JVP, determinism
    epoch: int = 0

    @property
    def labels(self) -> Any:
        """The method's label parametrisation, if it has one (the label recorders read it)."""
        return None if self.method is None else self.method.labels

    @property
    def lr(self) -> float:
        """The model optimizer's current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def lookahead_lr(self) -> float:
        """The look-ahead's step size (the label and weight meta-gradients): the current lr, or with
        `optim.lookahead_lr=peak` the schedule's peak `optim.lr` (repro/conf/optim/lookahead_lr/)."""
        return float(self.cfg.optim.lr) if self.cfg.optim.get("lookahead_lr") == "peak" else self.lr

    @property
    def epochs(self) -> int:
        """Epochs the run trains: optim.epochs, or fewer when optim.iterations ends it sooner (the last cut short)."""
        return planned_steps(self.cfg.optim, len(self.train_loader))[0]

    @property
    def total_steps(self) -> int:
        return planned_steps(self.cfg.optim, len(self.train_loader))[1]

    def steps_in_epoch(self, epoch: int) -> int:
        """Optimizer steps of 0-based `epoch`: a full pass but in an iteration-based run's last epoch (an
        epoch-based run gives any epoch index a full pass: benchmarks count on past optim.epochs)."""
        if not iteration_based(self.cfg.optim):
            return len(self.train_loader)
        return steps_in_epoch(epoch, len(self.train_loader), self.total_steps)

    @property
    def weight_decay(self) -> float:
        return float(self.cfg.optim.weight_decay)

    @property
    def eval_loader_kwargs(self) -> dict[str, Any]:
        kwargs = {
            "batch_size": int(self.cfg.eval_batch_size),
            "mean": self.data.train.mean,
            "std": self.data.train.std,
            "device": self.device,
        }
        if self.hardware is not None:
            kwargs.update(prepare=self.hardware.prepare_batch, autocast=self.hardware.autocast)
        return kwargs

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.method.set_epoch(self, epoch)

    def next_meta_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh random meta batch each step (stateless but for the generator, so resuming is exact)."""
        assert self.meta_loader is not None
        n = self.meta_idx.numel()
        size = meta_batch_size(self.cfg.method, n)
        pick = self.meta_idx[torch.randperm(n, generator=self.meta_gen)[:size]]
        x, y, _ = self.meta_loader.batch(pick)
        x = self.hardware.prepare_batch(x) if self.hardware else x.to(self.device, non_blocking=True)
        return x, y.to(self.device, non_blocking=True)  # non-blocking: no host sync in the middle of a step

    def record_epoch(self, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        for recorder in self.recorders:
            recorder.on_epoch_end(self, epoch, row, tracker)

    def summary_extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {"num_train": int(self.train_idx.numel()), "num_meta": int(self.meta_idx.numel())}
        extras.update(self.data.noise_record)

        extras.update(summary_fields(self.method.clean_label_uses(self)))
        for recorder in self.recorders:
            extras.update(recorder.summary())
        return extras

    def state_dict(self) -> dict[str, Any]:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "method": self.method.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "train": self.train_gen.get_state(),
                "meta": self.meta_gen.get_state(),
            },
        }
        if self.device.type == "cuda":  # this run's GPU only: the resuming machine may see fewer GPUs
            state["rng"]["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        # Checkpoints from before repro.methods held the labels' state at the top level.
        self.method.load_state_dict(state["method"] if "method" in state else {"labels": state["labels"]})
        torch.set_rng_state(state["rng"]["torch"])
        self.train_gen.set_state(state["rng"]["train"])
        self.meta_gen.set_state(state["rng"]["meta"])
        cuda_rng = state["rng"].get("cuda")
        if isinstance(cuda_rng, (list, tuple)):  # checkpoints written before: the state of every visible GPU
            slot = self.device.index or 0
            cuda_rng = cuda_rng[slot] if slot < len(cuda_rng) else None
        if cuda_rng is not None and self.device.type == "cuda":  # a CPU run (or one saved on the CPU) has none
            torch.cuda.set_rng_state(cuda_rng, self.device)


def meta_batch_size(method_cfg: Any, n_meta: int) -> int:
    """The meta batch a run draws each step: method.meta_batch_size (default 256, the paper's), at most the meta
    set (the cost estimate prices a look-ahead step's meta part by it)."""
    return min(int(method_cfg.get("meta_batch_size", 256)), int(n_meta))


def pick_device() -> torch.device:
    return Hardware.from_config({}).device


def hardware_data(data: RunData, hardware: Hardware) -> RunData:
    """The run's images on the GPU when they fit (loaders and evaluation then never copy pixels per batch)."""
    return replace(
        data,
        train=replace(data.train, images=hardware.place_images(data.train.images)),
        test=replace(data.test, images=hardware.place_images(data.test.images)),
    )


def prepare_experiment(
    cfg: DictConfig, run_dir: RunDir, data: tuple[RunData, torch.Tensor, torch.Tensor] | None = None
) -> Experiment:
    """Build a run's state from its config, deterministically from `cfg.seed`, all but its method: the method is
    built on this state one layer up (repro.train.build_experiment), so this module imports no method. `data`:
    (data, train_idx, meta_idx) given instead of loaded (`repro bench`'s synthetic epochs)."""
    seed = int(cfg.seed)
    hardware = Hardware.from_config(cfg)
    hardware.apply()
    torch.manual_seed(seed)
    device = hardware.device
    data, train_idx, meta_idx = load_run_data(cfg) if data is None else data
    check_input(str(cfg.model.name), tuple(data.train.images.shape[1:]), str(cfg.data.name))
    data = hardware_data(data, hardware)
    model = hardware.prepare_model(
        build_model(
            str(cfg.model.name),
            num_classes=data.num_classes,
            in_channels=int(cfg.data.in_channels),
            image_size=int(cfg.data.image_size),
        )
    )
    optimizer, scheduler = sgd_with_schedule(model, cfg.optim)
    train_gen = torch.Generator().manual_seed(seed)
    meta_gen = torch.Generator().manual_seed(seed + 1)
    common = dict(mean=data.train.mean, std=data.train.std, augment=data.train.augment)
    train_loader = BatchLoader(
        data.train.images,
        data.train_targets,
        train_idx,
        batch_size=int(cfg.data.batch_size),
        shuffle=True,
        generator=train_gen,
        **common,
    )
    meta_loader = None
    if meta_idx.numel():
        # Meta labels are the clean (true) labels: noise is only ever injected into the training part.
        meta_loader = BatchLoader(
            data.train.images,
            data.train_true_targets,
            meta_idx,
            batch_size=int(cfg.method.get("meta_batch_size", 256)),
            shuffle=True,
            generator=meta_gen,
            **common,
        )
    exp = Experiment(
        cfg=cfg,
        run_dir=run_dir,
        data=data,
        train_idx=train_idx,
        meta_idx=meta_idx,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        train_loader=train_loader,
        meta_loader=meta_loader,
        train_gen=train_gen,
        meta_gen=meta_gen,
        device=device,
        hardware=hardware,
    )
    return exp
