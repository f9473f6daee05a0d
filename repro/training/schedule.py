"""The model's optimizer and its learning-rate schedule (`Optimization`: what a step reads of them), per epoch (every
preset of Table 9, setting B) or per iteration (setting A, Meta-Weight-Net's script counts iterations, not epochs).

An iteration-based preset sets `optim.iterations` (the total number of optimizer steps) and
`optim.milestone_iterations` (1-based step numbers at which the lr is multiplied by `gamma`). The run then trains
`min(iterations, epochs x steps per epoch)` steps: its last epoch is cut short where the iterations run out. The
factor of 1-based step i is gamma ** #{m : i >= m}, as their `adjust_learning_rate(optimizer, iters + 1)` does
(train_WRN-28-10_Meta_PGC.py: steps 1..17,999 at lr, 18,000..18,999 at lr / 10, 19,000..20,000 at lr / 100).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
from omegaconf import DictConfig


class RunSchedule(torch.optim.lr_scheduler.LambdaLR):
    """A LambdaLR that knows its unit: the loop (and a method with a second optimizer) calls `after_step` after
    every optimizer step and `after_epoch` after every epoch; only the one of its unit moves it. Its state
    (`last_epoch` = steps or epochs done) lives in the checkpoint, so a resumed run continues the schedule."""

    def __init__(
        self, optimizer: torch.optim.Optimizer, optim_cfg: DictConfig, epoch_lambda: Callable[[int], float]
    ) -> None:
        self.per_step = iteration_based(optim_cfg)
        super().__init__(optimizer, iteration_lambda(optim_cfg) if self.per_step else epoch_lambda)

    def after_step(self) -> None:
        if self.per_step:
            self.step()

    def after_epoch(self) -> None:
        if not self.per_step:
            self.step()


def iteration_based(optim_cfg: Any) -> bool:
    return optim_cfg.get("iterations", None) is not None


def iteration_lambda(optim_cfg: DictConfig) -> Callable[[int], float]:
    """Multiplier of the base lr for the step after `done` steps (so 1-based step done + 1)."""
    total = int(optim_cfg.iterations)
    milestones = [int(m) for m in optim_cfg.get("milestone_iterations", [])]
    gamma = float(optim_cfg.get("gamma", 0.1))
    floor = float(optim_cfg.get("lr_floor", 0.0) or 0.0)
    schedule = str(optim_cfg.schedule)  # values and their ties (warm-up, milestones): repro/conf/schema.py

    def factor(done: int) -> float:
        step = done + 1
        if schedule == "multistep":
            return gamma ** sum(step >= m for m in milestones)
        if schedule == "cosine":
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * done / total))
        return 1.0

    return factor


def planned_steps(optim_cfg: Any, steps_per_epoch: int) -> tuple[int, int]:
    """(epochs, total optimizer steps) of a run: all of `optim.epochs` without `optim.iterations`; with it, the
    steps stop at `iterations` (or at `epochs` full passes, if that comes first, as in a scaled-down sweep)."""
    epochs = int(optim_cfg["epochs"])
    full = epochs * steps_per_epoch
    if not iteration_based(optim_cfg):
        return epochs, full
    total = min(int(optim_cfg["iterations"]), full)
    return min(epochs, -(-total // max(steps_per_epoch, 1))), total


def steps_in_epoch(epoch: int, steps_per_epoch: int, total_steps: int) -> int:
    """How many steps 0-based `epoch` trains: a full pass, or the rest of the iterations in the last one."""
    return max(0, min(steps_per_epoch, total_steps - epoch * steps_per_epoch))


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
    optim.iterations); a method with a second network (co-teaching) builds that network's pair here too, so both
    train alike (it calls the schedule's after_step / after_epoch as the loop does)."""
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
class Optimization:
    """The run's model optimizer (SGD from cfg.optim) and its schedule, with what a step and the loop read of them:
    the current lr, the look-ahead's lr, the weight decay, the epochs and steps the run trains."""

    optimizer: torch.optim.Optimizer
    schedule: RunSchedule
    cfg: Any  # the run's optim node
    steps_per_epoch: int  # batches of one full pass over the training part

    @classmethod
    def build(cls, model: torch.nn.Module, optim_cfg: DictConfig, steps_per_epoch: int) -> Optimization:
        return cls(*sgd_with_schedule(model, optim_cfg), optim_cfg, steps_per_epoch)

    @property
    def lr(self) -> float:
        """The model optimizer's current learning rate."""
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def lookahead_lr(self) -> float:
        """The look-ahead's step size (the label and weight meta-gradients): the current lr, or with
        `optim.lookahead_lr=peak` the schedule's peak `optim.lr` (repro/conf/optim/lookahead_lr/)."""
        return float(self.cfg.lr) if self.cfg.get("lookahead_lr") == "peak" else self.lr

    @property
    def weight_decay(self) -> float:
        return float(self.cfg.weight_decay)

    @property
    def epochs(self) -> int:
        """Epochs the run trains: optim.epochs, or fewer when optim.iterations ends it sooner (the last cut short)."""
        return planned_steps(self.cfg, self.steps_per_epoch)[0]

    @property
    def total_steps(self) -> int:
        return planned_steps(self.cfg, self.steps_per_epoch)[1]

    def steps_in_epoch(self, epoch: int) -> int:
        """Optimizer steps of 0-based `epoch`: a full pass but in an iteration-based run's last epoch (an
        epoch-based run gives any epoch index a full pass: benchmarks count on past optim.epochs)."""
        if not iteration_based(self.cfg):
            return self.steps_per_epoch
        return steps_in_epoch(epoch, self.steps_per_epoch, self.total_steps)
