"""Several runs per GPU (`--runs-per-gpu K`, repro/sweep/executors/packed.py), priced and checked from measurement.

Priced: `repro bench --concurrency K` stores, per model, the aggregate steps per second of K runs side by side over
one run's (the speed-up S; repro/commands/bench_concurrency.py). K runs packed on one GPU take K / S times one run's
time, so a packed run costs its unpacked GPU-hours / S. Without a figure for the model at that K the run is priced
at K=1 (no speed-up assumed), and the estimate says so.

Checked: K runs must fit the GPU: the model's measured peak memory (one run's training step at the bench's batch,
from the calibration)
times K against the GPU's memory (the cluster profile's `gpu_memory_gb`, else the calibration's device). A sweep
that does not fit is refused with the largest K that does; one whose memory is not measured is not checked, and the
command says so.
"""

from __future__ import annotations

from typing import Iterable

from repro.errors import UserError
from repro.sweep.budget.calibration import Calibration
from repro.sweep.executors.slurm.profile import ClusterProfile


def check_runs_per_gpu(runs_per_gpu: int | None, profile: ClusterProfile | None) -> int:
    """`--runs-per-gpu K`, else the cluster profile's `runs_per_gpu`, else 1."""
    value = runs_per_gpu if runs_per_gpu is not None else (profile.runs_per_gpu if profile else None) or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"--runs-per-gpu {value!r}: give how many runs share one GPU, a whole number of at least 1.")
    return value


def speedup(cal: Calibration, model: str, runs_per_gpu: int) -> float | None:
    """The measured aggregate throughput of `runs_per_gpu` runs of `model` side by side over one run's; None when
    not measured (K=1 is 1 by definition)."""
    if runs_per_gpu == 1:
        return 1.0
    got = ((cal.concurrency or {}).get(model) or {}).get(str(runs_per_gpu))
    return None if got is None else float(got)


def packed_hours(hours: float, model: str, cal: Calibration, runs_per_gpu: int) -> tuple[float, str | None]:
    """A run's GPU-hours when packed `runs_per_gpu` to a GPU, and a note where it was priced at K=1 instead."""
    got = speedup(cal, model, runs_per_gpu)
    if got is None:
        return hours, (
            f"{model}: no concurrency figure at K={runs_per_gpu} on {cal.gpu}: priced K=1 (no speed-up from "
            f"packing assumed; `repro bench --concurrency {runs_per_gpu}` on that GPU measures it)"
        )
    return hours / max(got, 1e-9), None


def packing_line(cal: Calibration, models: Iterable[str], runs_per_gpu: int) -> str:
    """One line for the dry run: how a packed sweep was priced."""
    figures = {m: speedup(cal, m, runs_per_gpu) for m in sorted(set(models))}
    measured = ", ".join(f"{m} x{s:.2f}" for m, s in figures.items() if s is not None)
    missing = [m for m, s in figures.items() if s is None]
    text = f"packed {runs_per_gpu} runs per GPU: "
    text += f"priced from the measured aggregate throughput ({measured})" if measured else "no concurrency figure"
    if missing:
        text += f"; priced K=1 (no speed-up assumed) for {', '.join(missing)}"
    return text


def check_fits(models: Iterable[str], runs_per_gpu: int, cal: Calibration, gpu_memory_gb: float | None) -> str | None:
    """Refuse (UserError) `runs_per_gpu` runs per GPU when K times a model's measured peak memory exceeds the GPU's
    memory; return a note when it could not be checked (nothing measured), else None."""
    if runs_per_gpu == 1:
        return None
    device_mb = gpu_memory_gb * 1024 if gpu_memory_gb else cal.device_memory_mb
    where = "the profile's gpu_memory_gb" if gpu_memory_gb else f"{cal.gpu}, measured by `repro bench`"
    peaks = {m: (cal.peak_memory_mb or {}).get(m) for m in sorted(set(models))}
    unknown = [m for m, peak in peaks.items() if peak is None]
    if not device_mb or unknown:
        return (
            f"--runs-per-gpu {runs_per_gpu}: memory not checked ("
            + ("the GPU's memory is not known: set gpu_memory_gb in the cluster profile" if not device_mb else "")
            + ("; " if not device_mb and unknown else "")
            + (f"no measured peak memory for {', '.join(unknown)}" if unknown else "")
            + f"; `repro bench --concurrency {runs_per_gpu}` on the GPU measures both)"
        )
    largest = min(int(device_mb // peak) for peak in peaks.values() if peak)
    too_big = {m: peak for m, peak in peaks.items() if peak and peak * runs_per_gpu > device_mb}
    if too_big:
        model, peak = max(too_big.items(), key=lambda kv: kv[1])
        raise UserError(
            f"--runs-per-gpu {runs_per_gpu} does not fit: {model}'s measured peak memory is {peak / 1024:.1f} GB per "
            f"run (`repro bench` on {cal.gpu}), {runs_per_gpu} runs need {peak * runs_per_gpu / 1024:.1f} GB, and the "
            f"GPU has {device_mb / 1024:.1f} GB ({where}). The largest K that fits every model of this sweep is "
            f"{max(largest, 1)}: give --runs-per-gpu {max(largest, 1)} (or runs_per_gpu in the profile), or run "
            f"{model}'s rows (--rows) with fewer runs per GPU."
        )
    return None
