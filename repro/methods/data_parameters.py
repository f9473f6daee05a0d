"""Data parameters (Saxena, Tuzel, DeCoste, NeurIPS 2019; code apple/ml-data-parameters): every class and every
training sample gets a learnable temperature sigma (stored as log sigma), the logits of sample i are divided by
sigma_class[y_i] + sigma_inst[i] (or by the one that is learned), and the temperatures learn by plain gradient
descent on the same training loss as the model. A noisy sample earns a high temperature, which flattens its
softmax and shrinks its gradient. Settings and their sources: docs/methods/data_parameters.md.

The temperatures' optimizer is the authors' SparseSGD: SGD with momentum in which a row whose gradient is zero
(every row outside the batch) keeps its value and its momentum, so a sample's curriculum is not decayed while it
waits for its next batch; weight decay is an explicit L2 penalty on the batch's log-parameters only.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.errors import UserError
from repro.methods.base import Method, StepOutput, check_finite, optimizer_step
from repro.methods.declarations.data_parameters import DataParametersDeclaration
from repro.training.protocols import Recorder, When


def scaled_cross_entropy(logits: Tensor, y: Tensor, sigma: Tensor) -> Tensor:
    """Mean over the batch of CE(logits_i / sigma_i, y_i): the data-parameter loss (sigma = 1 is plain CE)."""
    return F.cross_entropy(logits / sigma.unsqueeze(1), y)


def log_decay(log_params: Tensor, weight_decay: float) -> Tensor:
    """0.5 * wd * sum of squares of the batch's log-parameters, one term per sample (a class met k times in the
    batch counts k times), as in the authors' code: decay pulls sigma towards 1 and touches only the batch."""
    return 0.5 * weight_decay * (log_params**2).sum()


class SparseMomentumSGD:
    """SGD with momentum (dampening 0, no Nesterov) on a 1-D table of parameters, updating only the given rows
    whose gradient is non-zero: buf <- momentum * buf + g, value <- value - lr * buf. Rows that are not
    updated keep their value and their momentum buffer exactly (the authors' SparseSGD with
    skip_update_zero_grad=True, whose first step sets buf = g, the same as from a zero buffer).

    The rows to skip are masked with torch.where, not selected (`rows[grad != 0]` has a data-dependent size: a host
    sync per step on a GPU)."""

    def __init__(self, values: Tensor, *, lr: float, momentum: float) -> None:
        self.values = values
        self.buf = torch.zeros_like(values)
        self.lr, self.momentum = lr, momentum

    def step(self, rows: Tensor | None, grad: Tensor) -> None:
        """Update `rows` (unique indices; None: every row, `grad` then has the table's shape) with their gradient."""
        values, buf = (self.values, self.buf) if rows is None else (self.values[rows], self.buf[rows])
        live = grad != 0
        buf = torch.where(live, buf * self.momentum + grad, buf)
        values = torch.where(live, values - self.lr * buf, values)
        if rows is None:
            self.buf.copy_(buf)
            self.values.copy_(values)
        else:
            self.buf[rows] = buf
            self.values[rows] = values


def table_leaf(table: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """(leaf, per_sample): a grad-requiring copy of the whole 1-D `table` and its rows leaf[index] (repeats allowed).
    After the backward, leaf.grad holds every row's gradient (repeated rows summed, zero outside the batch).

    Fixed shapes throughout: a torch.unique of the batch's rows (data-dependent size) would be a host sync per step
    on a GPU. Plain indexing, not a one-hot matmul: under bf16 autocast a matmul would round the temperatures and
    their gradients to bfloat16; indexing is exact in every precision."""
    leaf = table.detach().clone().requires_grad_(True)
    return leaf, leaf[index]


class DataParameters(Method, declaration=DataParametersDeclaration):
    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        o = self.options
        self.learn_class, self.learn_instance = o.learn_class, o.learn_instance
        self.wd_class, self.wd_instance = float(o.wd_class), float(o.wd_instance)
        self.clamp = o.clamp
        self.log_min, self.log_max = math.log(float(o.sigma_min)), math.log(float(o.sigma_max))
        device, momentum = exp.hardware.device, float(o.momentum)
        num_classes, num_samples = exp.data.num_classes, len(exp.data.train_targets)
        self.log_class = torch.full((num_classes,), math.log(float(o.init_class)), device=device)
        self.log_instance = torch.full((num_samples,), math.log(float(o.init_instance)), device=device)
        self.class_opt = SparseMomentumSGD(self.log_class, lr=float(o.lr_class), momentum=momentum)
        self.instance_opt = SparseMomentumSGD(self.log_instance, lr=float(o.lr_instance), momentum=momentum)
        self.train_idx = exp.data.train_idx.to(device)
        self.given = exp.data.train_targets.to(device)[self.train_idx]
        self.noisy = exp.data.noisy_mask.to(device)[self.train_idx]
        self.has_noise = bool(exp.data.noisy_mask[exp.data.train_idx].any())  # on the CPU copy: no device round trip

    # -- the step -------------------------------------------------------------------------------------------
    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        sigma = torch.zeros(y.shape, device=logits.device, dtype=logits.dtype)
        penalty = logits.new_zeros(())
        parts: dict[str, tuple[SparseMomentumSGD, Tensor, Tensor]] = {}
        if self.learn_class:
            leaf, log_sigma = table_leaf(self.log_class, y)
            sigma = sigma + log_sigma.exp()
            if self.wd_class:
                penalty = penalty + log_decay(log_sigma, self.wd_class)
            parts["class"] = (self.class_opt, leaf, y)
        if self.learn_instance:
            leaf, log_sigma = table_leaf(self.log_instance, idx)
            sigma = sigma + log_sigma.exp()
            if self.wd_instance:
                penalty = penalty + log_decay(log_sigma, self.wd_instance)
            parts["instance"] = (self.instance_opt, leaf, idx)
        loss = scaled_cross_entropy(logits, y, sigma) + penalty
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        for what, (opt, leaf, index) in parts.items():
            opt.step(None, leaf.grad)
            check_finite(opt.values[index], f"{what} data parameters (log temperatures)")
            if self.clamp:  # rows outside the batch are in range already (init checked, updates clamped)
                opt.values.clamp_(self.log_min, self.log_max)
        return StepOutput(loss.detach(), logits.detach())

    # -- the epoch ------------------------------------------------------------------------------------------
    def temperatures(self) -> tuple[Tensor, Tensor]:
        """(instance, effective) temperatures of the run's training samples now: exp(log sigma_inst[i]) and the
        divisor of their logits, sigma_class[y_i] + sigma_inst[i] (or the one learned)."""
        inst = self.log_instance[self.train_idx].exp()
        effective = torch.zeros_like(inst)
        if self.learn_class:
            effective = effective + self.log_class[self.given].exp()
        if self.learn_instance:
            effective = effective + inst
        return inst, effective

    def end_epoch(self, exp) -> dict[str, Any]:
        """Means of the training samples' temperatures after the epoch (each sample's instance temperature
        changed only in its own batch), split by noisy / clean given label; noisy keys only with noise."""
        inst, effective = self.temperatures()
        row: dict[str, Any] = {}
        groups = ([("temperature_mean", inst)] if self.learn_instance else []) + (
            [("effective_temperature_mean", effective)] if self.learn_class else []
        )
        for prefix, values in groups:
            if self.has_noise:
                row[f"{prefix}_noisy"] = float(values[self.noisy].double().mean())
            row[f"{prefix}_clean"] = float(values[~self.noisy].double().mean()) if (~self.noisy).any() else float("nan")
        if self.learn_class:
            row["class_temperature_mean"] = float(self.log_class.exp().double().mean())
        return row

    def recorders(self, exp) -> list:
        return [TemperatureRecorder(exp, self)]

    # -- the checkpoint -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "log_class": self.log_class.clone(),
            "log_instance": self.log_instance.clone(),
            "momentum_class": self.class_opt.buf.clone(),
            "momentum_instance": self.instance_opt.buf.clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, target in (
            ("log_class", self.log_class),
            ("log_instance", self.log_instance),
            ("momentum_class", self.class_opt.buf),
            ("momentum_instance", self.instance_opt.buf),
        ):
            if state[key].shape != target.shape:
                raise UserError(
                    f"The checkpoint's {key} has shape {tuple(state[key].shape)}, this run needs "
                    f"{tuple(target.shape)}; it belongs to another data set or subset. Train the run "
                    "in a fresh output_root."
                )
            target.copy_(state[key])


class TemperatureRecorder(Recorder):
    """W&B histograms of the training samples' instance temperatures (noisy / clean) and of the class
    temperatures after each epoch; the last epoch's temperature means go into summary.json."""

    KEYS = ("temperature_mean_noisy", "temperature_mean_clean", "class_temperature_mean")
    records = "W&B temperature histograms per epoch; the last temperature means in the summary"
    when = When.EVERY_EPOCH

    def __init__(self, exp, method: DataParameters) -> None:
        self.method = method
        self.run_dir = exp.run_dir

    def on_epoch_end(self, exp, epoch: int, row: dict[str, Any], tracker) -> None:
        step, method = epoch + 1, self.method
        if method.learn_instance:
            temps, noisy = method.temperatures()[0].cpu(), method.noisy.cpu()
            if noisy.any():
                tracker.log_histogram("temperatures/noisy", temps[noisy].numpy(), step=step)
            tracker.log_histogram("temperatures/clean", temps[~noisy].numpy(), step=step)
        if method.learn_class:
            tracker.log_histogram("temperatures/class", method.log_class.exp().cpu().numpy(), step=step)

    def summary(self) -> dict[str, Any]:
        rows = self.run_dir.read_metrics()  # also right for a run resumed after its last epoch
        last = rows[-1] if rows else {}
        return {f"final_{k}": last[k] for k in self.KEYS if k in last}
