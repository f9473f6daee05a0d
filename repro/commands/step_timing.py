"""One training step of each step kind (repro/training/step_cost.py), on random batches, and `measure`, which times
them for `repro bench` (the median ms per step after a warm-up, on the clock it is given).

Each builder takes a `StepBench` (a model on the run's device, its optimizer, a train and a meta batch) and returns
a closure running one step the way the methods do, through the same functions they call (repro/meta/lookahead.py,
repro/meta/weights.py, repro/methods/mwnet.py, ...).
"""

from __future__ import annotations

import importlib
import statistics
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.labels import InstanceLabels
from repro.losses import one_hot, soft_cross_entropy
from repro.meta import Batch, LookAhead, MetaBatch, meta_label_step
from repro.methods.coteaching import small_loss_picks
from repro.methods.l2rw import l2rw_step
from repro.methods.mwnet import Weighting, WeightingNet, weighting_net_backward
from repro.models import MIN_IMAGE_SIZE, SIGNAL_MODELS, build_model
from repro.sweep.budget.clock import WALL_CLOCK, Clock
from repro.training.step_cost import STEP_COSTS, StepCost

Step = Callable[[], None]
# MNIST-1D's signal length (repro/conf/data/mnist1d.yaml's data.image_size): the 1-D networks are timed at it.
MNIST1D_LENGTH = 40


@dataclass
class StepBench:
    """What a timed step needs. `build` makes another network like `model` (co-teaching's second, a teacher)."""

    hw: Any
    model: nn.Module
    build: Callable[[], nn.Module]
    x: Tensor
    y: Tensor
    x_meta: Tensor
    y_meta: Tensor
    classes: int

    def optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)


def _plain_step(b: StepBench, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad(set_to_none=True)
    with b.hw.autocast():
        loss = F.cross_entropy(model(b.x), b.y)
    loss.backward()
    optimizer.step()


def plain(b: StepBench) -> Step:
    optimizer = b.optimizer(b.model)
    return lambda: _plain_step(b, b.model, optimizer)


def two_networks(b: StepBench) -> Step:
    """Co-teaching: both networks forward, each keeps the other's small-loss half, both step."""
    second = b.build()
    opt_1, opt_2 = b.optimizer(b.model), b.optimizer(second)

    def step() -> None:
        with b.hw.autocast():
            loss_1 = F.cross_entropy(b.model(b.x), b.y, reduction="none")
            loss_2 = F.cross_entropy(second(b.x), b.y, reduction="none")
        pick_1, pick_2 = small_loss_picks(loss_1, loss_2, max(1, b.y.numel() // 2))
        for opt, loss in ((opt_1, loss_1[pick_2].mean()), (opt_2, loss_2[pick_1].mean())):
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return step


def teacher_forward(b: StepBench) -> Step:
    teacher = b.build().eval()
    optimizer = b.optimizer(b.model)

    def step() -> None:
        with torch.no_grad(), b.hw.autocast():
            teacher(b.x)
        _plain_step(b, b.model, optimizer)

    return step


def label_lookahead(b: StepBench) -> Step:
    optimizer = b.optimizer(b.model)
    n = b.y.shape[0]
    idx = torch.arange(n, device=b.y.device)
    labels = InstanceLabels(n, b.classes, b.y, init_target_prob=0.7, lr=10.0).to(b.y.device)
    meta, lookahead = MetaBatch(b.x_meta, b.y_meta), LookAhead(0.01, 5e-4, compile_jvp=b.hw.compile_jvp)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with b.hw.autocast():
            logits, p = meta_label_step(b.model, labels, Batch(b.x, b.y, idx), meta, lookahead)
            loss = soft_cross_entropy(logits, p)
        loss.backward()
        optimizer.step()

    return step


def weight_lookahead(b: StepBench) -> Step:
    optimizer = b.optimizer(b.model)
    meta, lookahead = MetaBatch(b.x_meta, b.y_meta), LookAhead(0.01, meta_cost_decay=5e-4, compile_jvp=b.hw.compile_jvp)

    def step() -> None:
        with b.hw.autocast():
            logits, w = l2rw_step(b.model, b.x, b.y, meta, lookahead, b.classes)
            loss = (w * F.cross_entropy(logits, b.y, reduction="none").float()).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def weighting_net_lookahead(b: StepBench) -> Step:
    optimizer = b.optimizer(b.model)
    vnet = WeightingNet(100).to(b.y.device)
    weighting = Weighting(vnet, normalize=True)
    meta_optimizer = torch.optim.Adam(vnet.parameters(), lr=1e-3)
    p = one_hot(b.y, b.classes, dtype=b.x.dtype)
    meta, lookahead = MetaBatch(b.x_meta, b.y_meta), LookAhead(0.01, compile_jvp=b.hw.compile_jvp)

    def step() -> None:
        meta_optimizer.zero_grad(set_to_none=True)
        with b.hw.autocast():
            logits, loss_i = weighting_net_backward(b.model, weighting, b.x, p, meta, lookahead)
        meta_optimizer.step()
        with torch.no_grad():
            w = weighting(loss_i)
        loss = soft_cross_entropy(logits, p, w)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def _median_ms(
    fn: Callable[[], None],
    steps: int,
    sync: Callable[[], None],
    clock: Clock = WALL_CLOCK,
    ready: Callable[[], None] | None = None,
) -> float:
    """The median ms of `steps` calls of fn after 3 warm-up calls (cuDNN's autotuning, allocator growth). `ready` is
    called between the warm-up and the timed calls: side by side (bench_concurrency.py) it is the barrier that starts
    every process's timed steps together, so no process times its steps beside another's warm-up or alone."""
    for _ in range(3):
        fn()
    sync()
    if ready is not None:
        ready()
    times = []
    for _ in range(steps):
        start = clock.read()
        fn()
        sync()
        times.append(clock.read() - start)
    return statistics.median(times) * 1e3


def bench_shape(model_name: str, classes: int) -> tuple[int, int, int, int]:
    """(channels, height, width, classes) a model is timed at: the smallest input it is meant for (the grey 8x8
    digits for the small CNNs, with digits' 10 classes; 32x32 colour CIFAR for the others); the 1-D networks at
    MNIST-1D's signals (1 x 1 x 40, 10 classes)."""
    if model_name in SIGNAL_MODELS:
        return (1, 1, MNIST1D_LENGTH, 10)
    size = MIN_IMAGE_SIZE[model_name]
    return (1, size, size, 10) if size < 32 else (3, size, size, classes)


def measure(
    model_name: str,
    hw,
    *,
    batch: int,
    meta_batch: int,
    classes: int,
    steps: int,
    kinds: tuple[StepCost, ...] = STEP_COSTS,
    clock: Clock = WALL_CLOCK,
    ready: Callable[[], None] | None = None,
    evaluate: bool = True,
) -> dict[str, float]:
    """ms per step of each kind, and per evaluated image unless `evaluate` is false, for one model on `hw`'s device,
    read on `clock`; `ready` is called after each kind's warm-up, before its timed steps (_median_ms)."""
    channels, height, width, classes = bench_shape(model_name, classes)
    torch.manual_seed(0)

    def build() -> torch.nn.Module:
        return hw.prepare_model(build_model(model_name, num_classes=classes, in_channels=channels, image_size=width))

    sync = torch.cuda.synchronize if hw.device.type == "cuda" else (lambda: None)
    x_meta = hw.prepare_batch(torch.randn(meta_batch, channels, height, width))
    got: dict[str, float] = {}
    for kind in kinds:
        module, _, name = kind.timer.partition(":")
        bench = StepBench(
            hw,
            build(),
            build,
            hw.prepare_batch(torch.randn(batch, channels, height, width)),
            torch.randint(0, classes, (batch,), device=hw.device),
            x_meta,
            torch.randint(0, classes, (meta_batch,), device=hw.device),
            classes,
        )
        got[kind.key] = _median_ms(getattr(importlib.import_module(module), name)(bench), steps, sync, clock, ready)
    if not evaluate:
        return got
    model = build().eval()

    @torch.no_grad()
    def evaluate() -> None:
        with hw.autocast():
            model(x_meta).argmax(1)

    got["eval_per_image"] = _median_ms(evaluate, steps, sync, clock) / meta_batch
    return got
