"""The model's optimizer and its learning-rate scheduler (`Optimization`: what a step reads of them): SGD from
cfg.optim, stepped per epoch or per iteration by the factors of schedule.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from omegaconf import DictConfig

from repro.training.schedule import iteration_based, iteration_lambda, lr_lambda, planned_steps, steps_in_epoch


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
