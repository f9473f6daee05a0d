"""Everything one run trains with, built from its config and named by what it is: the run's config and directory,
its hardware, its data and split (run_data.py), its network, its optimizer and schedule (optimization.py:
`Optimization`), where its batches come from (batches.py: `Batches`), and the method that trains on each batch with
the run's recorders.

The parts a method is built on come first (`RunParts`, `prepare_parts`); the method and the recorders are built on
them one layer up (repro.train.build_experiment, which imports the methods), and the `Experiment` is made whole from
the three: no experiment exists without its method. Its `state_dict` is exactly what a checkpoint must hold for a
resumed run to end where an uninterrupted one does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch
from omegaconf import DictConfig

from repro.models import build_run_model, check_input
from repro.runs.rundir import RunDir
from repro.training.batches import Batches
from repro.training.clean_labels import summary_fields
from repro.training.hardware import Hardware
from repro.training.optimization import Optimization
from repro.training.protocols import Recorder, TrainingMethod
from repro.training.run_data import RunData, hardware_data, load_run_data

__all__ = ["Experiment", "RunParts", "pick_device", "prepare_parts"]


@dataclass
class RunParts:
    """What a run's method is built on: everything of the run but the method and its recorders."""

    cfg: DictConfig
    run_dir: RunDir
    hardware: Hardware  # device, precision, memory format, compiled JVP, determinism
    data: RunData  # the data sets, the split, the given (noisy) and true labels
    model: torch.nn.Module
    optim: Optimization  # the model's SGD, its schedule, the lrs a step reads, the epochs and steps to train
    batches: Batches  # the training loader and the meta draws

    @property
    def eval_loader_kwargs(self) -> dict[str, Any]:
        """How the evaluation passes batch the images: the eval batch size, the training set's normalisation, the
        device and its memory format and precision."""
        return {
            "batch_size": int(self.cfg.eval_batch_size),
            "mean": self.data.train.mean,
            "std": self.data.train.std,
            "device": self.hardware.device,
            "prepare": self.hardware.prepare_batch,
            "autocast": self.hardware.autocast,
        }


@dataclass
class Experiment(RunParts):
    """A whole run: its parts, the method that trains on each batch, the recorders, and the epoch it is in."""

    method: TrainingMethod = field(kw_only=True)
    recorders: list[Recorder] = field(kw_only=True)
    epoch: int = field(default=0, kw_only=True)

    @classmethod
    def whole(cls, parts: RunParts, method: TrainingMethod, recorders: list[Recorder]) -> Experiment:
        """The experiment of `parts`, with the method built on them and the run's recorders."""
        return cls(**{f.name: getattr(parts, f.name) for f in fields(RunParts)}, method=method, recorders=recorders)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.method.set_epoch(self, epoch)

    def record_epoch(self, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        for recorder in self.recorders:
            recorder.on_epoch_end(self, epoch, row, tracker)

    def summary_extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {
            "num_train": int(self.data.train_idx.numel()),
            "num_meta": int(self.data.meta_idx.numel()),
        }
        extras.update(self.data.noise_record)
        extras.update(summary_fields(self.method.clean_label_uses(self)))
        for recorder in self.recorders:
            extras.update(recorder.summary())
        return extras

    def state_dict(self) -> dict[str, Any]:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optim.optimizer.state_dict(),
            "scheduler": self.optim.schedule.state_dict(),
            "method": self.method.state_dict(),
            "rng": {"torch": torch.get_rng_state(), **self.batches.rng_state()},
        }
        device = self.hardware.device
        if device.type == "cuda":  # this run's GPU only: the resuming machine may see fewer GPUs
            state["rng"]["cuda"] = torch.cuda.get_rng_state(device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optim.optimizer.load_state_dict(state["optimizer"])
        self.optim.schedule.load_state_dict(state["scheduler"])
        # Checkpoints from before repro.methods held the labels' state at the top level.
        self.method.load_state_dict(state["method"] if "method" in state else {"labels": state["labels"]})
        torch.set_rng_state(state["rng"]["torch"])
        self.batches.load_rng_state(state["rng"])
        device = self.hardware.device
        cuda_rng = state["rng"].get("cuda")
        if isinstance(cuda_rng, (list, tuple)):  # checkpoints written before: the state of every visible GPU
            slot = device.index or 0
            cuda_rng = cuda_rng[slot] if slot < len(cuda_rng) else None
        if cuda_rng is not None and device.type == "cuda":  # a CPU run (or one saved on the CPU) has none
            torch.cuda.set_rng_state(cuda_rng, device)


def pick_device() -> torch.device:
    return Hardware.from_config({}).device


def prepare_parts(cfg: DictConfig, run_dir: RunDir, data: RunData | None = None) -> RunParts:
    """Build a run's parts from its config, deterministically from `cfg.seed`: everything its method is built on.
    `data`: given instead of loaded (`repro bench`'s synthetic epochs)."""
    hardware = Hardware.from_config(cfg)
    hardware.apply()
    torch.manual_seed(int(cfg.seed))
    data = load_run_data(cfg) if data is None else data
    check_input(str(cfg.model.name), tuple(data.train.images.shape[1:]), str(cfg.data.name))
    data = hardware_data(data, hardware)
    model = hardware.prepare_model(build_run_model(cfg.model, cfg.data, num_classes=data.num_classes))
    batches = Batches.build(cfg, data, hardware)
    optim = Optimization.build(model, cfg.optim, len(batches.train))
    return RunParts(cfg, run_dir, hardware, data, model, optim, batches)
