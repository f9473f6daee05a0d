"""`repro bench --concurrency K`: the aggregate throughput of K runs of a model side by side on one device, against
one run alone, and one run's peak memory, per step kind: what a packed sweep (`--runs-per-gpu K`,
repro/sweep/budget/packing.py) is priced and memory-checked from.

K processes (as a packed job's runs are: repro/sweep/executors/packed.py), each timing one kind of training step of
the model (step_timing's `measure`, the same step the calibration stores, on its hardware); the aggregate steps per
second is the sum of each process's. The processes meet at a barrier after their warm-up steps, so that their timed
steps run together. A barrier before the model was built let one process time its steps beside another's cuDNN
autotuning, or alone once the other had finished: with it there, two measurements of one WRN-28-10 look-ahead kind
at K=2 on one H100 gave x0.90 and x1.83 (docs/gpu.md). Each kind is measured on its own: a look-ahead step does 4-5
times a plain step's work, leaves less of a GPU idle and holds a meta batch and the JVP's tangents, so its packing
speed-up and peak memory are not the plain step's. On a CPU the figure is this CPU's (its cores shared among the K
processes, as the local executor shares them), and the peak memory is the process's resident set, not a GPU's.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from threading import BrokenBarrierError
from typing import Callable

import torch

from repro.errors import UserError
from repro.training.hardware import Hardware
from repro.training.step_cost import StepCost

START_TIMEOUT_S = 600  # a process that never reaches the barrier (failed to start) fails the measurement
# What a process released from the broken barrier reports: the process that broke it reports its own failure, which
# the parent names first; only where none did (one never reached the barrier in time) is this the message.
RELEASED = f"the processes' barrier was broken: another process failed or did not reach it within {START_TIMEOUT_S} s"


def check_concurrency(values: list[int] | None) -> list[int]:
    """`--concurrency K [K ...]`: whole numbers of at least 2 (K=1 is always measured, as the reference)."""
    values = sorted(set(values or []))
    if any(v < 2 for v in values):
        raise UserError(
            f"--concurrency {' '.join(map(str, values))}: give how many runs share the device, each at least 2 "
            "(one run alone is always measured as the reference), e.g. --concurrency 2 4 8."
        )
    return values


def measure_concurrency(
    model_name: str,
    kind: StepCost,
    hw: Hardware,
    ks: list[int],
    *,
    measure: Callable,
    batch: int,
    meta_batch: int,
    classes: int,
    steps: int,
) -> tuple[dict[str, float], float, dict[int, float]]:
    """For one step kind: ({K: aggregate steps/s of K runs over one run's}, one run's peak memory in MB, {K: aggregate
    steps/s}). `measure`: the step timer (step_timing.py's; passed in, so that a test stands in for it); `hw`: the
    hardware the calibration resolved (bench_epoch.run_hardware), which each process sets up."""
    rates: dict[int, float] = {}
    peak_mb = 0.0
    sizes = {"batch": batch, "meta_batch": meta_batch, "classes": classes, "steps": steps}
    for k in [1, *ks]:
        got = _side_by_side(model_name, kind, hw, k, measure, **sizes)
        rates[k] = sum(rate for rate, _ in got)
        if k == 1:
            peak_mb = got[0][1]
    return {str(k): round(rates[k] / rates[1], 3) for k in ks}, round(peak_mb, 1), rates


def device_memory_mb(device: str) -> float | None:
    """The GPU's memory in MB (None on a CPU: no device memory to fit)."""
    if device != "cuda":
        return None
    return round(torch.cuda.get_device_properties(0).total_memory / 2**20, 1)


def _side_by_side(
    model_name: str, kind: StepCost, hw: Hardware, k: int, measure: Callable, **sizes: int
) -> list[tuple[float, float]]:
    """K processes timing the kind's step together (from the barrier after their warm-up): [(steps/s, peak MB)]."""
    context = multiprocessing.get_context("spawn")  # CUDA in children needs spawn
    barrier, results = context.Barrier(k), context.Queue()
    threads = max(1, len(os.sched_getaffinity(0)) // k)
    procs = [
        context.Process(target=_one, args=(model_name, kind, hw, threads, measure, sizes, barrier, results))
        for _ in range(k)
    ]
    for proc in procs:
        proc.start()
    try:
        got = [results.get(timeout=START_TIMEOUT_S) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=60)
    errors = sorted((g for g in got if isinstance(g, str)), key=lambda e: e == RELEASED)  # the failure itself first
    if errors:
        raise UserError(
            f"repro bench --concurrency {k}: {model_name} ({kind.key} steps) failed in a process: {errors[0]}"
        )
    return got


def _one(
    model_name: str, kind: StepCost, hw: Hardware, threads: int, measure: Callable, sizes: dict, barrier, results
) -> None:
    """One of the K processes: the kind's median ms per step -> steps/s, and its peak memory. The timed steps start
    at the barrier, after the warm-up; a process that fails breaks the barrier, so the others stop waiting for it."""

    try:
        torch.set_num_threads(threads)
        hw.apply()
        got = measure(
            model_name, hw, kinds=(kind,), ready=lambda: barrier.wait(timeout=START_TIMEOUT_S), evaluate=False, **sizes
        )
        if hw.device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(hw.device) / 2**20
        else:  # the process's resident set (ru_maxrss is in KB on Linux)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.put((1e3 / got[kind.key], peak))
    except BrokenBarrierError:
        results.put(RELEASED)
    except Exception as exc:  # noqa: BLE001 - reported by the parent as the measurement's failure
        barrier.abort()
        results.put(f"{type(exc).__name__}: {exc}")
