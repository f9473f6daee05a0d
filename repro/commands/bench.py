"""`repro bench`: measure this GPU's per-step costs (every step kind of repro/training/step_cost.py, and the eval
forward) for every model of the registry, and store them once per GPU model, so `repro sweep FILE --dry-run`
estimates GPU-hours for the GPU you will run on.

Steps run with the defaults a run gets on this device (repro/training/hardware.py: channels_last, fp32), on
random
batches of the model's input shape (bench_shape); the median over timed steps after warm-up is stored. Each kind is
timed at --batch and at half of it, and a look-ahead kind at a quarter of the meta batch too: a step has a fixed part
(kernel launches) and a look-ahead's meta part, which do not shrink with the training batch, and the estimate prices
a run's batch and meta batch on the plane through the three.

Every timing is read on one clock (`--clock`, repro/sweep/budget/clock.py), passed down to what takes it and recorded
in the calibration: the wall clock, or on a shared CPU the process's CPU time, which the machine's other jobs do not
inflate.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from typing import Callable

import torch

from repro.commands.bench_concurrency import check_concurrency, device_memory_mb, measure_concurrency
from repro.commands.bench_epoch import EPOCH_KINDS, epoch_costs
from repro.commands.step_timing import StepBench
from repro.errors import UserError
from repro.models import MIN_IMAGE_SIZE, MODEL_NAMES, SIGNAL_MODELS, build_model
from repro.sweep.budget.calibration import Calibration, cpu_calibration_name
from repro.sweep.budget.clock import CLOCKS, WALL_CLOCK, Clock, clock_named
from repro.training.hardware import Hardware
from repro.training.step_cost import STEP_COSTS, StepCost

# What an interruption leaves (repro/cli.py): the calibration is stored once, after the last model.
WHEN_INTERRUPTED = (
    "nothing was stored (the calibration is written after the last model); run it again, with --models for fewer."
)

# MNIST-1D's signal length (repro/conf/data/mnist1d.yaml's data.image_size): the 1-D networks are timed at it.
MNIST1D_LENGTH = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(MODEL_NAMES),
        choices=MODEL_NAMES,
        help="default: every model of the registry (repro/models)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=[k.key for k in STEP_COSTS],
        choices=[k.key for k in STEP_COSTS],
        help="step kinds to time (repro/training/step_cost.py; default: all)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cuda", "cpu"),
        help="cpu: time this CPU (stored under its name; `--gpu-model cpu-<N>t` prices a plan with it)",
    )
    parser.add_argument("--batch", type=int, default=128, help="train batch (paper: 128)")
    parser.add_argument("--meta-batch", type=int, default=256, help="meta batch (paper: 256)")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per variant (after 3 warm-up steps)")
    parser.add_argument("--no-save", action="store_true", help="print only; store no calibration")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        metavar="K",
        help="also time K runs of each model and step kind (--kinds) side by side (K processes) against one: the "
        "aggregate throughput and one run's peak memory a packed sweep (--runs-per-gpu K) is priced and checked from "
        "(bench_concurrency.py)",
    )
    parser.add_argument(
        "--no-epochs",
        action="store_true",
        help="skip the whole short epochs of each kind (loader, steps, evaluation, records, checkpoint) that give "
        "a step's cost inside an epoch and the per-epoch fixed cost (repro/sweep/budget/epoch_cost.py)",
    )
    parser.add_argument(
        "--clock",
        default=WALL_CLOCK.key,
        choices=[c.key for c in CLOCKS],
        help="what every timing is read on, recorded in the calibration: wall (default) the wall clock; cpu the "
        "process's CPU time (time.process_time), which other jobs on a shared machine do not inflate: for "
        "--device cpu at one torch thread (OMP_NUM_THREADS=1), without --concurrency",
    )


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


def run(args: argparse.Namespace) -> int:
    hw = Hardware.from_config({"device": args.device})
    hw.apply()
    clock = clock_named(args.clock)
    _check_clock(clock, hw.device.type, args.concurrency or [])
    if hw.device.type != "cuda" and not args.no_save:
        print(
            "note: no CUDA GPU here; the figures are stored under the CPU's name and only used where no GPU "
            "calibration exists"
        )
    name = (
        torch.cuda.get_device_name(hw.device)
        if hw.device.type == "cuda"
        else cpu_calibration_name(torch.get_num_threads())
    )
    if min(args.batch, args.meta_batch, args.steps, args.classes) < 1:
        raise UserError("--batch, --meta-batch, --steps and --classes must be positive.")
    kinds = tuple(k for k in STEP_COSTS if k.key in args.kinds)
    ks = check_concurrency(args.concurrency)
    concurrency: dict[str, dict[str, dict[str, float]]] = {}  # model -> step kind -> {K: speed-up}
    peak_mb: dict[str, dict[str, float]] = {}  # model -> step kind -> one run's peak MB
    steps_ms, eval_ms, shapes, half_ms, low_meta_ms = {}, {}, {}, {}, {}
    epoch_fixed: dict[str, dict[str, float]] = {}
    epoch_ratio: dict[str, dict[str, float]] = {}
    half, low_meta = args.batch // 2, args.meta_batch // 4
    meta_kinds = tuple(k for k in kinds if k.meta_batch)
    print(
        f"{name}: batch {args.batch}, meta batch {args.meta_batch}, {args.classes} classes, "
        f"channels_last={hw.channels_last}"
    )
    for model_name in args.models:
        sizes = {"batch": args.batch, "meta_batch": args.meta_batch, "classes": args.classes, "steps": args.steps}
        got = measure(model_name, hw, **sizes, kinds=kinds, clock=clock)
        steps_ms[model_name] = {k.key: round(got[k.key], 3) for k in kinds}
        if half >= 1:  # a second batch: a step's fixed part, which the estimate keeps at other batches
            got_half = measure(model_name, hw, **{**sizes, "batch": half}, kinds=kinds, clock=clock)
            half_ms[model_name] = {k.key: round(got_half[k.key], 3) for k in kinds}
        if low_meta >= 1 and meta_kinds:  # and a second meta batch for the look-ahead kinds (their meta part)
            got_low = measure(model_name, hw, **{**sizes, "meta_batch": low_meta}, kinds=meta_kinds, clock=clock)
            low_meta_ms[model_name] = {k.key: round(got_low[k.key], 3) for k in meta_kinds}
        eval_ms[model_name] = got["eval_per_image"]
        shapes[model_name] = list(bench_shape(model_name, args.classes))
        ratios = "   ".join(
            f"{k.key} {got[k.key]:.2f} ms"
            + (f" ({got[k.key] / got['plain']:.2f}x plain)" if "plain" in got and k.key != "plain" else "")
            for k in kinds
        )
        print(f"  {model_name:9} {ratios}   eval {got['eval_per_image'] * 1e3:.2f} us/image")
        for what, figures in ((f"batch {half}", half_ms), (f"meta batch {low_meta}", low_meta_ms)):
            if model_name in figures:
                print(f"  {'':9} at {what}: " + "   ".join(f"{k} {v:.2f} ms" for k, v in figures[model_name].items()))
        if not args.no_epochs:
            _time_epochs(model_name, kinds, hw, args, clock, steps_ms[model_name], epoch_fixed, epoch_ratio)
        for kind in kinds if ks else ():
            sizes = {"batch": args.batch, "meta_batch": args.meta_batch, "classes": args.classes, "steps": args.steps}
            factors, peak, rates = measure_concurrency(model_name, kind, hw.device.type, ks, measure=measure, **sizes)
            concurrency.setdefault(model_name, {})[kind.key] = factors
            peak_mb.setdefault(model_name, {})[kind.key] = peak
            print(
                f"  {'':9} side by side, {kind.key}: "
                + "   ".join(f"K={k} {rates[k]:.1f} steps/s (x{rates[k] / rates[1]:.2f})" for k in rates)
                + f"   peak {peak:.0f} MB per run"
                + ("" if hw.device.type == "cuda" else f" (resident set: figures for this CPU, {name})")
            )
    cal = Calibration(
        name,
        args.batch,
        steps_ms,
        eval_ms,
        f"measured {time.strftime('%Y-%m-%d')} by repro bench",
        shapes,
        half_ms or None,
        args.meta_batch,
        low_meta if low_meta_ms else None,
        low_meta_ms or None,
        epoch_fixed or None,
        epoch_ratio or None,
        concurrency or None,
        peak_mb or None,
        device_memory_mb(hw.device.type) if ks else None,
        clock,
    )
    if not args.no_save:
        print(f"stored: {cal.save()}")
    return 0


def _check_clock(clock: Clock, device: str, concurrency: list[int]) -> None:
    """A clock of this process's own CPU work (the CPU clock) times neither a GPU's work, nor K runs sharing the
    device, nor a step spread over several threads (it adds their seconds up)."""
    if not clock.this_process_only:
        return
    why = None
    if device == "cuda":
        why = "a GPU's work is not the process's CPU time: time it with --device cpu, or leave out --clock cpu"
    elif concurrency:
        why = "runs side by side are measured by how they share the device's time, which each process's CPU time "
        why += "does not see: measure --concurrency on the wall clock (leave out --clock cpu)"
    elif torch.get_num_threads() > 1:
        why = f"it adds up the seconds of all {torch.get_num_threads()} torch threads, pricing a run at their sum: "
        why += "time one thread (OMP_NUM_THREADS=1 repro bench ...), or leave out --clock cpu"
    if why:
        raise UserError(f"repro bench --clock {clock}: {why}.")


def _time_epochs(model_name: str, kinds, hw, args, clock: Clock, steps_ms: dict, fixed: dict, ratio: dict) -> None:
    """Whole short epochs of each kind (repro/commands/bench_epoch.py): per-epoch fixed ms and in-epoch step ratio."""
    parts = []
    for kind in (k for k in kinds if k in EPOCH_KINDS):
        shape = bench_shape(model_name, args.classes)
        got = epoch_costs(model_name, kind, hw.device.type, batch=args.batch, shape=shape, clock=clock)
        if got is None or not steps_ms.get(kind.key):
            continue
        per_step, fixed_ms = got
        fixed.setdefault(model_name, {})[kind.key] = round(fixed_ms, 1)
        ratio.setdefault(model_name, {})[kind.key] = round(max(per_step / steps_ms[kind.key], 1.0), 3)
        parts.append(f"{kind.key} +{fixed_ms / 1e3:.2f} s/epoch, step x{ratio[model_name][kind.key]:.2f}")
    if parts:
        print(f"  {'':9} whole epochs: " + "   ".join(parts))
