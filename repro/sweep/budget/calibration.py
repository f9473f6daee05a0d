"""The per-step costs a sweep's estimate is priced from (repro/sweep/budget/costs.py): `repro bench`'s calibration of
the user's GPU (or CPU), stored once per device name (`<dir>/<name>.json`, dir = $REPRO_CALIBRATION_DIR or
~/.cache/repro/calibration), or, without one, the H100 figures of the design notes (docs/gpu.md, "What a sweep will
cost"), which the estimate then says it used.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from repro.errors import UserError
from repro.runs.io import atomic_write_json
from repro.sweep.budget.clock import WALL_CLOCK, Clock, clock_named

H100_SHAPE = (3, 32, 32, 100)  # the H100 figures' input: CIFAR-100 images
# The design notes' H100 figures (one NVIDIA H100 80GB, torch 2.11, batch 128 / meta 256, 100 classes): ms per plain
# step and per meta step (our meta_label_step + backward + optimizer step), corrected to the epochs the same notes
# measured (/work/shared/DESIGN.md, "One epoch on full-size CIFAR-100"): a ResNet18 baseline epoch on 40k images 6.3 s,
# an instance-label epoch 17.7 s, a WRN-28-10 instance-label epoch on 49k images 78.5 s. Priced from the isolated
# steps (channels_last: 33.7 / 150 ms per meta step) they came out 3.8 / 11.1 / 63.7 s. The baseline epoch gives the
# per-epoch fixed cost, 6.3 s - 313 steps x 11.2 ms - 20,000 evaluated images = 2.2 s (H100_EPOCH_FIXED_MS); a meta
# step inside an epoch then costs 47.8 ms for ResNet18 (the notes' eager figure: the epoch loads a 256-image meta
# batch per step) and 183 ms for WRN-28-10 ((78.5 - 2.2 - 6.2 s of evaluation and memorisation passes) / 383 steps).
# VGG16 has no measured epoch: its table figures (28.3 ms, eager) stand. tests/sweep/budget/test_costs.py holds the
# three epochs to +-15%.
H100_NAME = "NVIDIA H100 80GB HBM3"
H100_MS = {
    "resnet18": {"plain": 11.2, "meta": 47.8},
    "wrn28_10": {"plain": 39.7, "meta": 183.0},
    "vgg16": {"plain": 6.8, "meta": 28.3},
}
H100_EPOCH_FIXED_MS = 2211.0  # ms per epoch beyond steps and evaluation (loaders, evaluation set-up, checkpoint)
# A forward in eval mode costs about a third of a training step (forward + backward), per image.
EVAL_FRACTION_OF_STEP = 1 / 3


CPU_PREFIX = "cpu-"  # a CPU's calibration is stored as cpu-<torch threads>t (`repro bench --device cpu`)


def cpu_calibration_name(threads: int) -> str:
    """The name `repro bench --device cpu` stores this CPU's figures under, with `threads` torch threads per run."""
    return f"{CPU_PREFIX}{threads}t"


def calibration_dir() -> Path:
    return Path(os.environ.get("REPRO_CALIBRATION_DIR") or Path.home() / ".cache" / "repro" / "calibration")


def calibration_file(gpu_name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", gpu_name).strip("_") or "unknown"
    return calibration_dir() / f"{slug}.json"


@dataclass(frozen=True, eq=False)  # hashed by identity: prices are cached per calibration object
class Calibration:
    """Per-model ms per step of each kind (StepCost.key) at `batch`, ms per evaluated image, and the input each
    model was timed at ([channels, height, width, classes]; calibrations without it: CIFAR-100's).
    `half_batch_steps_ms`: the same at batch // 2 (calibrations without it scale a step in proportion to the batch);
    `low_meta_batch_steps_ms`: the kinds that run a meta batch (StepCost.meta_batch) at the smaller meta batch
    `low_meta_batch` (a quarter of `meta_batch`: far enough apart that timing noise does not hide the meta part)."""

    gpu: str
    batch: int
    steps_ms: Mapping[str, Mapping[str, float]]
    eval_ms_per_image: Mapping[str, float]
    source: str  # "measured <date>" or "H100 defaults"
    shapes: Mapping[str, list[int]] | None = None
    half_batch_steps_ms: Mapping[str, Mapping[str, float]] | None = None
    meta_batch: int = 256
    low_meta_batch: int | None = None
    low_meta_batch_steps_ms: Mapping[str, Mapping[str, float]] | None = None
    # repro/sweep/budget/epoch_cost.py: per model and step kind, ms per epoch beyond steps and evaluation, and a step
    # inside a real epoch over the step timed alone (`repro bench`'s whole short epochs); absent: none measured
    epoch_fixed_ms: Mapping[str, Mapping[str, float]] | None = None
    epoch_step_ratio: Mapping[str, Mapping[str, float]] | None = None
    # repro/sweep/budget/packing.py (`repro bench --concurrency K`): per model and step kind, {K: aggregate steps per
    # second of K runs side by side over one run's}; per model and step kind, the peak memory (MB) of one run's step;
    # the device's memory (MB). Absent: not measured (a packed sweep is priced at K=1 and its memory is not checked).
    # Files stored before the kinds were measured apart hold the plain step's figures alone: read as "plain".
    concurrency: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None
    peak_memory_mb: Mapping[str, Mapping[str, float]] | None = None
    device_memory_mb: float | None = None
    # what its seconds are (repro/sweep/budget/clock.py: `repro bench --clock`); files without it: the wall clock's
    clock: Clock = WALL_CLOCK

    @property
    def provenance(self) -> str:
        """Where its figures come from and on which clock they were timed, as the estimates and plans print it."""
        return f"{self.source}, {self.clock.described}"

    @property
    def hours_unit(self) -> str:
        """What its hours are hours of: a CPU's figures price a run's hours on that CPU (at the threads it was timed
        with), a GPU's on one GPU."""
        return "CPU-hours" if self.gpu.startswith(CPU_PREFIX) else "GPU-hours"

    def shape(self, model: str) -> tuple[int, int, int, int]:
        return tuple((self.shapes or {}).get(model) or H100_SHAPE)  # type: ignore[return-value]

    @classmethod
    def h100_defaults(cls) -> Calibration:
        return cls(
            H100_NAME,
            128,
            H100_MS,
            {m: v["plain"] * EVAL_FRACTION_OF_STEP / 128 for m, v in H100_MS.items()},
            "the design notes' H100 figures (no calibration of your GPU: run `repro bench` on it)",
            epoch_fixed_ms={m: {"plain": H100_EPOCH_FIXED_MS} for m in H100_MS},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "batch": self.batch,
            "steps_ms": self.steps_ms,
            "eval_ms_per_image": self.eval_ms_per_image,
            "source": self.source,
            "shapes": self.shapes,
            "half_batch_steps_ms": self.half_batch_steps_ms,
            "meta_batch": self.meta_batch,
            "low_meta_batch": self.low_meta_batch,
            "low_meta_batch_steps_ms": self.low_meta_batch_steps_ms,
            "epoch_fixed_ms": self.epoch_fixed_ms,
            "epoch_step_ratio": self.epoch_step_ratio,
            "concurrency": self.concurrency,
            "peak_memory_mb": self.peak_memory_mb,
            "device_memory_mb": self.device_memory_mb,
            "clock": self.clock.key,
        }

    def save(self) -> Path:
        return atomic_write_json(calibration_file(self.gpu), self.to_json())


def load_calibration(gpu_name: str | None = None) -> Calibration:
    """The named GPU's calibration; else this machine's GPU's; else the only stored one; else the H100 figures."""
    if gpu_name is not None:
        path = calibration_file(gpu_name)
        if not path.exists():
            raise UserError(
                f"No calibration for GPU {gpu_name!r} ({path}). Run `repro bench` on that GPU first, or "
                "leave out --gpu-model to use the H100 figures."
            )
        return _read(path)
    local = _local_gpu()
    if local and calibration_file(local).exists():
        return _read(calibration_file(local))
    stored = sorted(calibration_dir().glob("*.json")) if calibration_dir().is_dir() else []
    if len(stored) == 1:
        return _read(stored[0])
    return Calibration.h100_defaults()


def _local_gpu() -> str | None:
    import torch  # deferred: torch is heavy; reading a calibration needs none

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def _is_per_kind(figures: Mapping) -> bool:
    """{kind: {K: S}} (today's shape) rather than {K: S} (a plain-only file's): its values are mappings."""
    return any(isinstance(v, Mapping) for v in figures.values())


def _per_kind(per_model: Mapping | None, plain_only: Callable[[Any], bool]) -> Mapping | None:
    """A per-model packing figure as {model: {kind: figure}}: a file stored before the kinds were measured apart holds
    the plain step's figure alone ({model: figure}), read as {model: {"plain": figure}}."""
    if per_model is None:
        return None
    return {model: {"plain": got} if plain_only(got) else got for model, got in per_model.items()}


def _read(path: Path) -> Calibration:
    try:
        raw = json.loads(path.read_text())
        return Calibration(
            str(raw["gpu"]),
            int(raw["batch"]),
            raw["steps_ms"],
            raw["eval_ms_per_image"],
            str(raw.get("source", "measured")),
            raw.get("shapes"),
            raw.get("half_batch_steps_ms"),
            int(raw.get("meta_batch") or 256),
            raw.get("low_meta_batch"),
            raw.get("low_meta_batch_steps_ms"),
            raw.get("epoch_fixed_ms"),
            raw.get("epoch_step_ratio"),
            _per_kind(raw.get("concurrency"), lambda v: isinstance(v, Mapping) and not _is_per_kind(v)),
            _per_kind(raw.get("peak_memory_mb"), lambda v: isinstance(v, (int, float))),
            raw.get("device_memory_mb"),
            clock_named(raw.get("clock") or WALL_CLOCK.key),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"The calibration {path} cannot be read ({exc}); delete it and run `repro bench` again."
        ) from None
