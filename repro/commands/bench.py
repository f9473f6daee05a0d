"""`repro bench`: measure this GPU's per-step costs (every step kind of repro/training/step_cost.py, and the eval
forward) for every model of the registry, and store them once per GPU model, so `repro sweep FILE --dry-run`
estimates GPU-hours for the GPU you will run on.

Steps run on the hardware a run's config resolves on this device (bench_epoch.run_hardware: its memory format and
precision, repro/training/hardware.py), on random batches of the model's input shape (step_timing.bench_shape); the
median over timed steps after warm-up is stored (step_timing.measure). Each kind is
timed at --batch and at half of it, and a look-ahead kind at a quarter of the meta batch too: a step has a fixed part
(kernel launches) and a look-ahead's meta part, which do not shrink with the training batch, and the estimate prices
a run's batch and meta batch on the plane through the three.

Every timing is read on one clock (`--clock`, repro/sweep/budget/clock.py), passed down to what takes it and recorded
in the calibration: the wall clock, or on a shared CPU the process's CPU time, which the machine's other jobs do not
inflate.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import torch

from repro.commands.bench_concurrency import check_concurrency, device_memory_mb, measure_concurrency
from repro.commands.bench_epoch import EPOCH_KINDS, epoch_costs, run_hardware
from repro.commands.step_timing import bench_shape, measure
from repro.errors import UserError
from repro.models import MODEL_NAMES
from repro.sweep.budget.calibration import Calibration, cpu_calibration_name
from repro.sweep.budget.clock import CLOCKS, WALL_CLOCK, Clock, clock_named
from repro.training.hardware import Hardware
from repro.training.step_cost import STEP_COSTS

# What an interruption leaves (repro/cli.py): the calibration is stored once, after the last model.
WHEN_INTERRUPTED = (
    "nothing was stored (the calibration is written after the last model); run it again, with --models for fewer."
)


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


@dataclass
class Figures:
    """What `repro bench` measured, per model: the figures of the calibration it stores."""

    steps_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> step kind -> ms at --batch
    half_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # ... at half of it
    low_meta_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # ... at a quarter of --meta-batch
    eval_ms: dict[str, float] = field(default_factory=dict)  # model -> ms per evaluated image
    shapes: dict[str, list[int]] = field(default_factory=dict)  # model -> its input, as timed
    epoch_fixed: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> step kind -> ms per epoch
    epoch_ratio: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> step kind -> in-epoch ratio
    concurrency: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # model -> kind -> {K: x}
    peak_mb: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> step kind -> one run's peak MB

    def calibration(self, name: str, args: argparse.Namespace, clock: Clock, memory: float | None) -> Calibration:
        """The calibration to store under `name`, timed on `clock`; `memory`: the device's MB, where measured."""
        low_meta = args.meta_batch // 4
        return Calibration(
            name,
            args.batch,
            self.steps_ms,
            self.eval_ms,
            f"measured {time.strftime('%Y-%m-%d')} by repro bench",
            self.shapes,
            self.half_ms or None,
            args.meta_batch,
            low_meta if self.low_meta_ms else None,
            self.low_meta_ms or None,
            self.epoch_fixed or None,
            self.epoch_ratio or None,
            self.concurrency or None,
            self.peak_mb or None,
            memory,
            clock,
        )


def run(args: argparse.Namespace) -> int:
    hw, clock, name = _set_up(args)
    kinds = tuple(k for k in STEP_COSTS if k.key in args.kinds)
    ks = check_concurrency(args.concurrency)
    figures = Figures()
    print(
        f"{name}: batch {args.batch}, meta batch {args.meta_batch}, {args.classes} classes, "
        f"channels_last={hw.channels_last}"
    )
    for model_name in args.models:
        _time_steps(model_name, kinds, hw, args, clock, figures)
        if not args.no_epochs:
            _time_epochs(model_name, kinds, hw, args, clock, figures)
        for kind in kinds if ks else ():
            _time_side_by_side(model_name, kind, hw, args, ks, name, figures)
    cal = figures.calibration(name, args, clock, device_memory_mb(hw.device.type) if ks else None)
    if not args.no_save:
        print(f"stored: {cal.save()}")
    return 0


def _set_up(args: argparse.Namespace) -> tuple[Hardware, Clock, str]:
    """The hardware a run on --device resolves (bench_epoch.run_hardware), set up; the clock, checked against it;
    the name the calibration is stored under."""
    hw = run_hardware(args.device)
    hw.apply()
    clock = clock_named(args.clock)
    _check_clock(clock, hw.device.type, args.concurrency or [])
    if hw.device.type != "cuda" and not args.no_save:
        print(
            "note: no CUDA GPU here; the figures are stored under the CPU's name and only used where no GPU "
            "calibration exists"
        )
    if min(args.batch, args.meta_batch, args.steps, args.classes) < 1:
        raise UserError("--batch, --meta-batch, --steps and --classes must be positive.")
    if hw.device.type == "cuda":
        return hw, clock, torch.cuda.get_device_name(hw.device)
    return hw, clock, cpu_calibration_name(torch.get_num_threads())


def _sizes(args: argparse.Namespace, **changed: int) -> dict[str, int]:
    sizes = {"batch": args.batch, "meta_batch": args.meta_batch, "classes": args.classes, "steps": args.steps}
    return {**sizes, **changed}


def _time_steps(model_name: str, kinds, hw: Hardware, args, clock: Clock, figures: Figures) -> None:
    """Each kind's isolated step at --batch and --meta-batch, at half the batch (a step's fixed part, which the
    estimate keeps at other batches) and, for the look-ahead kinds, at a quarter of the meta batch (their meta part);
    the evaluation's ms per image."""
    half, low_meta = args.batch // 2, args.meta_batch // 4
    meta_kinds = tuple(k for k in kinds if k.meta_batch)
    got = measure(model_name, hw, **_sizes(args), kinds=kinds, clock=clock)
    figures.steps_ms[model_name] = {k.key: round(got[k.key], 3) for k in kinds}
    if half >= 1:
        got_half = measure(model_name, hw, **_sizes(args, batch=half), kinds=kinds, clock=clock)
        figures.half_ms[model_name] = {k.key: round(got_half[k.key], 3) for k in kinds}
    if low_meta >= 1 and meta_kinds:
        got_low = measure(model_name, hw, **_sizes(args, meta_batch=low_meta), kinds=meta_kinds, clock=clock)
        figures.low_meta_ms[model_name] = {k.key: round(got_low[k.key], 3) for k in meta_kinds}
    figures.eval_ms[model_name] = got["eval_per_image"]
    figures.shapes[model_name] = list(bench_shape(model_name, args.classes))
    ratios = "   ".join(
        f"{k.key} {got[k.key]:.2f} ms"
        + (f" ({got[k.key] / got['plain']:.2f}x plain)" if "plain" in got and k.key != "plain" else "")
        for k in kinds
    )
    print(f"  {model_name:9} {ratios}   eval {got['eval_per_image'] * 1e3:.2f} us/image")
    for what, timed in ((f"batch {half}", figures.half_ms), (f"meta batch {low_meta}", figures.low_meta_ms)):
        if model_name in timed:
            print(f"  {'':9} at {what}: " + "   ".join(f"{k} {v:.2f} ms" for k, v in timed[model_name].items()))


def _time_side_by_side(model_name: str, kind, hw: Hardware, args, ks: list[int], name: str, figures: Figures) -> None:
    """K runs of the kind's step side by side against one (bench_concurrency.py)."""
    factors, peak, rates = measure_concurrency(model_name, kind, hw, ks, measure=measure, **_sizes(args))
    figures.concurrency.setdefault(model_name, {})[kind.key] = factors
    figures.peak_mb.setdefault(model_name, {})[kind.key] = peak
    print(
        f"  {'':9} side by side, {kind.key}: "
        + "   ".join(f"K={k} {rates[k]:.1f} steps/s (x{rates[k] / rates[1]:.2f})" for k in rates)
        + f"   peak {peak:.0f} MB per run"
        + ("" if hw.device.type == "cuda" else f" (resident set: figures for this CPU, {name})")
    )


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


def _time_epochs(model_name: str, kinds, hw: Hardware, args, clock: Clock, figures: Figures) -> None:
    """Whole short epochs of each kind (repro/commands/bench_epoch.py) at --batch and --meta-batch: per-epoch fixed
    ms, and a step inside an epoch over the same step timed alone beside them."""
    parts = []
    for kind in (k for k in kinds if k in EPOCH_KINDS):
        shape = bench_shape(model_name, args.classes)
        sizes = {"batch": args.batch, "meta_batch": args.meta_batch, "steps": args.steps}
        got = epoch_costs(model_name, kind, hw, **sizes, shape=shape, clock=clock)
        if got is None:
            continue
        figures.epoch_fixed.setdefault(model_name, {})[kind.key] = round(got.fixed_ms, 1)
        ratio = round(max(got.step_ratio, 1.0), 3)
        figures.epoch_ratio.setdefault(model_name, {})[kind.key] = ratio
        parts.append(f"{kind.key} +{got.fixed_ms / 1e3:.2f} s/epoch, step x{ratio:.2f}")
    if parts:
        print(f"  {'':9} whole epochs: " + "   ".join(parts))
