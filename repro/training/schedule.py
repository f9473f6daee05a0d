"""The learning-rate schedule as arithmetic on the config: the lr's factor per epoch (every preset of Table 9, setting
B) or per iteration (setting A, Meta-Weight-Net's script counts iterations, not epochs), and the epochs and steps a run
trains. Torch-free, so that what only counts steps (the table notes, a sweep's price) loads no torch; the optimizer and
the scheduler that step by these factors are optimization.py's.

An iteration-based preset sets `optim.iterations` (the total number of optimizer steps) and
`optim.milestone_iterations` (1-based step numbers at which the lr is multiplied by `gamma`). The run then trains
`min(iterations, epochs x steps per epoch)` steps: its last epoch is cut short where the iterations run out. The
factor of 1-based step i is gamma ** #{m : i >= m}, as their `adjust_learning_rate(optimizer, iters + 1)` does
(train_WRN-28-10_Meta_PGC.py: steps 1..17,999 at lr, 18,000..18,999 at lr / 10, 19,000..20,000 at lr / 100).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from omegaconf import DictConfig


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
