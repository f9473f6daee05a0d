"""Several runs per GPU (`--runs-per-gpu K`, repro/sweep/executors/packed.py), priced and checked from measurement.

Priced: `repro bench --concurrency K` stores, per model and step kind, the aggregate steps per second of K runs side
by side over one run's (the speed-up S; repro/commands/bench_concurrency.py). K runs packed on one GPU take K / S
times one run's time, so a packed run costs its unpacked GPU-hours / S. A run whose own kind was not measured is
priced from the plain step's figure (an over-promise for a look-ahead step, and the estimate says so); without any
figure for the model at that K it is priced at K=1 (no speed-up assumed), and the estimate says so.

Checked: K runs must fit the GPU: the run's measured peak memory (one run's step of its kind at the bench's batch,
else the plain step's, from the calibration) times K against the GPU's memory (the cluster profile's `gpu_memory_gb`,
else the calibration's device). A sweep that does not fit is refused with the largest K that does; one whose memory
is not measured is not checked, and the command says so.
"""

from __future__ import annotations

from typing import Iterable

from repro.errors import UserError
from repro.sweep.budget.calibration import Calibration
from repro.sweep.cluster_profile import ClusterProfile


def check_runs_per_gpu(runs_per_gpu: int | None, profile: ClusterProfile | None) -> int:
    """`--runs-per-gpu K`, else the cluster profile's `runs_per_gpu`, else 1."""
    value = runs_per_gpu if runs_per_gpu is not None else (profile.runs_per_gpu if profile else None) or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"--runs-per-gpu {value!r}: give how many runs share one GPU, a whole number of at least 1.")
    return value


def speedup(cal: Calibration, model: str, kind: str, runs_per_gpu: int) -> tuple[float, str] | None:
    """The measured aggregate throughput of `runs_per_gpu` runs of `model` side by side over one run's, and the step
    kind it was measured with: the run's own kind, else the plain step's (a look-ahead step leaves less of the GPU
    idle, so the plain figure over-promises for it, and the estimate says so); None when neither was measured. K=1
    is 1 by definition."""
    if runs_per_gpu == 1:
        return 1.0, kind
    per_kind = (cal.concurrency or {}).get(model) or {}
    for measured in dict.fromkeys((kind, "plain")):
        got = (per_kind.get(measured) or {}).get(str(runs_per_gpu))
        if got is not None:
            return float(got), measured
    return None


def packed_hours(hours: float, model: str, kind: str, cal: Calibration, runs_per_gpu: int) -> tuple[float, str | None]:
    """A run's GPU-hours when packed `runs_per_gpu` to a GPU, and a note where its kind's figure was missing."""
    got = speedup(cal, model, kind, runs_per_gpu)
    if got is None:
        return hours, (
            f"{model}: no concurrency figure at K={runs_per_gpu} on {cal.gpu}: priced K=1 (no speed-up from "
            f"packing assumed; `repro bench --concurrency {runs_per_gpu}` on that GPU measures it)"
        )
    factor, measured = got
    note = None
    if measured != kind:
        note = (
            f"{model} ({kind} steps): packed K={runs_per_gpu} priced from the plain step's speed-up x{factor:.2f}, "
            f"which over-promises for a {kind} step (`repro bench --concurrency {runs_per_gpu} --kinds {kind}` "
            "measures its own)"
        )
    return hours / max(factor, 1e-9), note


def packing_line(cal: Calibration, pairs: Iterable[tuple[str, str]], runs_per_gpu: int) -> str:
    """One line for the dry run: how a packed sweep was priced; `pairs`: the (model, step kind) of its runs."""
    figures = {pair: speedup(cal, *pair, runs_per_gpu) for pair in sorted(set(pairs))}
    measured = ", ".join(
        f"{m} {k} x{got[0]:.2f}" + ("" if got[1] == k else " (plain's)") for (m, k), got in figures.items() if got
    )
    missing = [f"{m} {k}" for (m, k), got in figures.items() if got is None]
    text = f"packed {runs_per_gpu} runs per GPU: "
    text += f"priced from the measured aggregate throughput ({measured})" if measured else "no concurrency figure"
    if missing:
        text += f"; priced K=1 (no speed-up assumed) for {', '.join(missing)}"
    return text


def peak_mb(cal: Calibration, model: str, kind: str) -> tuple[float, str] | None:
    """One run's measured peak memory and the kind it was measured with: its own kind's, else the plain step's (which
    under-counts a look-ahead step: its meta batch and the JVP's tangents); None where neither was measured."""
    per_kind = (cal.peak_memory_mb or {}).get(model) or {}
    for measured in dict.fromkeys((kind, "plain")):
        if per_kind.get(measured):
            return float(per_kind[measured]), measured
    return None


def check_fits(
    pairs: Iterable[tuple[str, str]], runs_per_gpu: int, cal: Calibration, gpu_memory_gb: float | None
) -> str | None:
    """Refuse (UserError) `runs_per_gpu` runs per GPU when K times a run's measured peak memory exceeds the GPU's
    memory; `pairs`: the (model, step kind) of the sweep's runs. Return a note where it could not be checked (nothing
    measured) or was checked from the plain step's peak, else None."""
    if runs_per_gpu == 1:
        return None
    device_mb = gpu_memory_gb * 1024 if gpu_memory_gb else cal.device_memory_mb
    where = "the profile's gpu_memory_gb" if gpu_memory_gb else f"{cal.gpu}, measured by `repro bench`"
    peaks = {pair: peak_mb(cal, *pair) for pair in sorted(set(pairs))}
    unknown = sorted({m for (m, _), got in peaks.items() if got is None})
    if not device_mb or unknown:
        return (
            f"--runs-per-gpu {runs_per_gpu}: memory not checked ("
            + ("the GPU's memory is not known: set gpu_memory_gb in the cluster profile" if not device_mb else "")
            + ("; " if not device_mb and unknown else "")
            + (f"no measured peak memory for {', '.join(unknown)}" if unknown else "")
            + f"; `repro bench --concurrency {runs_per_gpu}` on the GPU measures both)"
        )
    known = {pair: got[0] for pair, got in peaks.items() if got}
    largest = min(int(device_mb // peak) for peak in known.values())
    too_big = {pair: peak for pair, peak in known.items() if peak * runs_per_gpu > device_mb}
    if too_big:
        (model, kind), peak = max(too_big.items(), key=lambda kv: kv[1])
        raise UserError(
            f"--runs-per-gpu {runs_per_gpu} does not fit: {model}'s measured peak memory is {peak / 1024:.1f} GB per "
            f"run ({kind} steps, `repro bench` on {cal.gpu}), {runs_per_gpu} runs need "
            f"{peak * runs_per_gpu / 1024:.1f} GB, and the GPU has {device_mb / 1024:.1f} GB ({where}). The largest K "
            f"that fits every model of this sweep is {max(largest, 1)}: give --runs-per-gpu {max(largest, 1)} (or "
            f"runs_per_gpu in the profile), or run {model}'s rows (--rows) with fewer runs per GPU."
        )
    borrowed = [f"{m} {k}" for (m, k), got in peaks.items() if got and got[1] != k]
    if borrowed:
        return (
            f"--runs-per-gpu {runs_per_gpu}: memory checked from the plain step's peak for {', '.join(borrowed)}, "
            "which under-counts a look-ahead step (its meta batch and the JVP's tangents); "
            f"`repro bench --concurrency {runs_per_gpu} --kinds <kind>` on the GPU measures its own"
        )
    return None
