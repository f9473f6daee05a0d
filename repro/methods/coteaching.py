"""Co-teaching (Han et al., "Co-teaching: Robust Training of Deep Neural Networks with Extremely Noisy Labels",
NeurIPS 2018; public code bhanML/Co-teaching): two networks of the run's architecture; on each batch each network
ranks the samples by its own cross-entropy, keeps the 1 - R(t) smallest-loss ones, and the OTHER network trains on
them. Choices and their sources: docs/methods/coteaching.md.

Network 1 is the run's `exp.model` (its optimizer and scheduler are the loop's); network 2 is built here with
its own seed, an SGD optimizer and a LambdaLR schedule identical to network 1's, and lives in this method's
checkpoint state.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from repro.data.noise import describes_noise
from repro.data.noise.apply import actual_noise_rate
from repro.methods.base import Method, StepOutput, optimizer_step, option_values
from repro.methods.declarations.coteaching import CoTeachingDeclaration
from repro.models import build_run_model
from repro.schema import build
from repro.training.evaluation import evaluate
from repro.training.optimization import sgd_with_schedule

# Network 2's initialisation seed is the run's seed plus this offset (network 1 keeps the run's own stream, so it
# starts exactly where the baseline's model does).
NET2_SEED_OFFSET = 10_007


def forget_rate_at(epoch: int, forget_rate: float, num_gradual: int, exponent: float) -> float:
    """R(t) for the 0-based epoch t, as the authors' code defines it: `rate_schedule = ones(n_epoch) *
    forget_rate; rate_schedule[:num_gradual] = linspace(0, forget_rate ** exponent, num_gradual)`, i.e.
    R(t) = forget_rate**exponent * t / (num_gradual - 1) for t < num_gradual, forget_rate afterwards."""
    if epoch >= num_gradual:
        return float(forget_rate)
    if num_gradual == 1:
        return 0.0
    return float(forget_rate) ** float(exponent) * epoch / (num_gradual - 1)


def num_kept(rate: float, n: int) -> int:
    """How many of n samples each network keeps: int((1 - R) * n) as in their loss_coteaching (rounded to 9
    decimals first so that float noise such as (1 - 0.9) * 10 = 0.99999... does not drop a sample), at least 1."""
    return max(1, int(round((1.0 - rate) * n, 9)))


def small_loss_picks(loss_1: Tensor, loss_2: Tensor, keep: int) -> tuple[Tensor, Tensor]:
    """Batch positions of the `keep` smallest per-sample losses of network 1 and of network 2 (ties: the earlier
    position first, so the pick is deterministic on every device). Network 1 trains on network 2's picks and
    network 2 on network 1's."""
    pick_1 = torch.argsort(loss_1.detach(), stable=True)[:keep]
    pick_2 = torch.argsort(loss_2.detach(), stable=True)[:keep]
    return pick_1, pick_2


class CoTeaching(Method, declaration=CoTeachingDeclaration):
    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.forget_rate = resolved_forget_rate(
            exp.cfg, targets=exp.data.train_true_targets, among=exp.data.train_idx, given=exp.data.train_targets
        )
        self.num_gradual, self.exponent = self.options.num_gradual, float(self.options.exponent)
        self.model2 = exp.hardware.prepare_model(build_second_network(exp.cfg, exp.data.num_classes))

        self.optimizer2, self.scheduler2 = sgd_with_schedule(self.model2, exp.cfg.optim)
        self.noisy = exp.data.noisy_mask.to(exp.hardware.device)
        self.has_noise = bool(exp.data.noisy_mask[exp.data.train_idx].any())
        self.rate = 0.0
        self._reset_epoch_stats(exp.hardware.device)

    # -- the step -------------------------------------------------------------------------------------------
    def set_epoch(self, exp, epoch: int) -> None:
        self.rate = forget_rate_at(epoch, self.forget_rate, self.num_gradual, self.exponent)
        self.model2.train()
        self._reset_epoch_stats(exp.hardware.device)

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits_1, logits_2 = exp.model(x), self.model2(x)
        loss_1 = F.cross_entropy(logits_1, y, reduction="none")
        loss_2 = F.cross_entropy(logits_2, y, reduction="none")
        keep = num_kept(self.rate, y.numel())
        pick_1, pick_2 = small_loss_picks(loss_1, loss_2, keep)
        update_1, update_2 = loss_1[pick_2].mean(), loss_2[pick_1].mean()  # the cross update
        optimizer_step(exp.optim.optimizer, update_1, epoch=exp.epoch, what="training loss of network 1")
        optimizer_step(self.optimizer2, update_2, epoch=exp.epoch, what="training loss of network 2")
        self.scheduler2.after_step()  # network 2 follows the run's schedule step by step (setting A's is per step)
        with torch.no_grad():
            noisy = self.noisy[idx]
            self._noisy_share += 0.5 * (noisy[pick_1].float().mean() + noisy[pick_2].float().mean())
            self._fraction += keep / y.numel()
            self._steps += 1
        return StepOutput(update_1.detach(), logits_1.detach())

    def end_epoch(self, exp) -> dict[str, Any]:
        self.scheduler2.after_epoch()
        test_2 = evaluate(self.model2, exp.data.test.images, exp.data.test.targets, None, exp.eval_loader_kwargs)
        return {"forget_rate": self.rate, **self.epoch_stats(), "test_acc_net2": test_2.accuracy}

    def epoch_stats(self) -> dict[str, float]:
        """Means over the epoch's steps so far: the share of noisy samples among each network's small-loss picks
        (the two networks averaged; NaN when the run has no noisy sample), and the share of the batch kept."""
        steps = max(self._steps, 1)
        noisy_share = float(self._noisy_share) / steps if self.has_noise else float("nan")
        return {"selected_noisy_share": noisy_share, "selected_fraction": self._fraction / steps}

    def eval_model(self, exp) -> nn.Module:
        """Network 1 (docs/methods/coteaching.md: why one network, and why this one)."""
        return exp.model

    def _reset_epoch_stats(self, device: torch.device) -> None:
        # Summed on the device (no host sync per step); read once per epoch.
        self._noisy_share = torch.zeros((), device=device)
        self._fraction, self._steps = 0.0, 0

    # -- the checkpoint -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "model2": self.model2.state_dict(),
            "optimizer2": self.optimizer2.state_dict(),
            "scheduler2": self.scheduler2.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model2.load_state_dict(state["model2"])
        self.optimizer2.load_state_dict(state["optimizer2"])
        self.scheduler2.load_state_dict(state["scheduler2"])


def resolved_forget_rate(
    cfg: DictConfig,
    *,
    targets: torch.Tensor | None = None,
    among: torch.Tensor | None = None,
    given: torch.Tensor | None = None,
) -> float:
    """method.forget_rate, or when it is null the run's noise rate (the paper sets tau = epsilon when the noise
    rate is known): by default the actual rate of the run's noise model (repro.data.noise.actual_noise_rate:
    fraction * (C - 1) / C for uniform noise, whose redraw may keep the true class), which is what the authors'
    forget rate equals (their symmetric noise never keeps the true class, so their epsilon is the actual rate);
    `default_forget_rate: noise_fraction` takes noise.fraction itself. 0 without noise, where co-teaching trains
    both networks on every sample. `targets` / `among`: the true training targets and the training part, for the
    exact-fraction model's realised subset (its class balance)."""
    options = build(CoTeachingDeclaration.Options, option_values(cfg.method))
    if options.forget_rate is not None:
        return float(options.forget_rate)
    if not describes_noise(cfg.noise):
        return 0.0
    if options.default_forget_rate == "noise_fraction" and cfg.noise.get("fraction") is not None:
        # a file's human noise has no fraction: its actual rate
        return float(cfg.noise.fraction)
    return actual_noise_rate(cfg.noise, int(cfg.data.num_classes), targets=targets, among=among, given=given)


def build_second_network(cfg: DictConfig, num_classes: int) -> nn.Module:
    """Network 2: the run's architecture, initialised from its own seed inside a forked RNG, so that the global
    stream (and with it everything network 1 and the loop draw) is the same as in a one-network run."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(cfg.seed) + NET2_SEED_OFFSET)
        return build_run_model(cfg.model, cfg.data, num_classes=num_classes)
