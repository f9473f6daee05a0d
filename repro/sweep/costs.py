"""What a sweep will cost in GPU-hours, from per-step costs measured on the user's GPU (`repro bench`).

A calibration is stored once per GPU model (`<dir>/<gpu name>.json`, dir = $REPRO_CALIBRATION_DIR or
~/.cache/repro/calibration). Without one, the H100 figures of the design notes (docs/gpu.md, "What a sweep will cost") are used and
the estimate says so. A run's cost = epochs x (steps per epoch x step cost + evaluated images x forward cost per
image); steps per epoch come from the data set's known size, the split and the batch size, without loading data.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from tabulate import tabulate

from repro.errors import UserError
from repro.runs.io import atomic_write_json
from repro.training.schedule import planned_steps

# (train, test) sizes of the data sets, as loaded (digits: the fixed 70/30 split of its 1797 images).
DATA_SIZES = {"cifar10": (50000, 10000), "cifar100": (50000, 10000), "digits": (1258, 539)}
# Measured on one NVIDIA H100 80GB, torch 2.11, batch 128 / meta 256, 100 classes, channels_last where measured
# (the default on CUDA): ms per plain step and per meta step (our meta_label_step + backward + optimizer step).
H100_NAME = "NVIDIA H100 80GB HBM3"
H100_MS = {"resnet18": {"plain": 11.2, "meta": 33.7}, "wrn28_10": {"plain": 39.7, "meta": 150.0},
           "vgg16": {"plain": 6.8, "meta": 28.3}}
# A forward in eval mode costs about a third of a training step (forward + backward), per image.
EVAL_FRACTION_OF_STEP = 1 / 3
STAGES = ("tune", "single", "fold", "final")  # the tuning stage first: the others wait for it


def calibration_dir() -> Path:
    return Path(os.environ.get("REPRO_CALIBRATION_DIR") or Path.home() / ".cache" / "repro" / "calibration")


def calibration_file(gpu_name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", gpu_name).strip("_") or "unknown"
    return calibration_dir() / f"{slug}.json"


@dataclass(frozen=True)
class Calibration:
    """Per-model ms per plain / meta step at `batch`, and ms per evaluated image."""

    gpu: str
    batch: int
    steps_ms: Mapping[str, Mapping[str, float]]
    eval_ms_per_image: Mapping[str, float]
    source: str  # "measured <date>" or "H100 defaults"

    @classmethod
    def h100_defaults(cls) -> "Calibration":
        return cls(H100_NAME, 128, H100_MS,
                   {m: v["plain"] * EVAL_FRACTION_OF_STEP / 128 for m, v in H100_MS.items()},
                   "the design notes' H100 figures (no calibration of your GPU: run `repro bench` on it)")

    def to_json(self) -> dict[str, Any]:
        return {"gpu": self.gpu, "batch": self.batch, "steps_ms": self.steps_ms,
                "eval_ms_per_image": self.eval_ms_per_image, "source": self.source}

    def save(self) -> Path:
        return atomic_write_json(calibration_file(self.gpu), self.to_json())


def load_calibration(gpu_name: str | None = None) -> Calibration:
    """The named GPU's calibration; else this machine's GPU's; else the only stored one; else the H100 figures."""
    if gpu_name is not None:
        path = calibration_file(gpu_name)
        if not path.exists():
            raise UserError(f"No calibration for GPU {gpu_name!r} ({path}). Run `repro bench` on that GPU first, or "
                            "leave out --gpu-model to use the H100 figures.")
        return _read(path)
    local = _local_gpu()
    if local and calibration_file(local).exists():
        return _read(calibration_file(local))
    stored = sorted(calibration_dir().glob("*.json")) if calibration_dir().is_dir() else []
    if len(stored) == 1:
        return _read(stored[0])
    return Calibration.h100_defaults()


def _local_gpu() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def _read(path: Path) -> Calibration:
    try:
        raw = json.loads(path.read_text())
        return Calibration(str(raw["gpu"]), int(raw["batch"]), raw["steps_ms"], raw["eval_ms_per_image"],
                           str(raw.get("source", "measured")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"The calibration {path} cannot be read ({exc}); delete it and run `repro bench` again."
                        ) from None


# ------------------------------------------------------------------------------------------------ estimate


def run_sizes(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(train samples, meta/validation samples, test samples) of a run, from its config alone."""
    data, split = config["data"], config["split"]
    if data["name"] not in DATA_SIZES:
        raise UserError(f"No known size for data set {data['name']!r}; known: {', '.join(DATA_SIZES)}.")
    train, test = DATA_SIZES[data["name"]]
    train = min(train, int(data.get("subset") or train))
    test = min(test, int(data.get("test_subset") or test))
    meta = 0 if split.get("full_train") else int(math.floor(float(split["meta_fraction"]) * train + 0.5))
    return train - meta, meta, test


def step_kind(config: Mapping[str, Any]) -> str:
    """meta for learned labels (class, instance), plain for every fixed-target method (replay included)."""
    return "meta" if config["method"].get("labels") in ("class", "instance") else "plain"


def run_gpu_hours(config: Mapping[str, Any], cal: Calibration) -> float | None:
    """Estimated GPU-hours of one run; None when the calibration has no figure for its model."""
    model = config["model"]["name"]
    if model not in cal.steps_ms:
        return None
    n_train, n_meta, n_test = run_sizes(config)
    batch = int(config["data"]["batch_size"])
    step_ms = cal.steps_ms[model][step_kind(config)] * batch / cal.batch  # per-step cost scales with the batch
    steps = math.ceil(n_train / batch)
    eval_ms = (n_meta + n_test) * cal.eval_ms_per_image[model]
    epochs, total_steps = planned_steps(config["optim"], steps)  # optim.iterations may end the last epoch early
    return (total_steps * step_ms + epochs * eval_ms) / 3.6e6


@dataclass
class Estimate:
    rows: list[list[Any]]            # stage, runs, GPU-hours
    total: float
    remaining: float                 # runs not done yet
    unknown_models: list[str]
    calibration: Calibration

    def render(self) -> str:
        body = [*self.rows, ["total", sum(r[1] for r in self.rows), f"{self.total:.2f}"]]
        lines = [f"estimated GPU-hours (per-step costs: {self.calibration.gpu}, {self.calibration.source}):",
                 tabulate(body, headers=["stage", "runs", "GPU-hours"], tablefmt="simple", disable_numparse=True),
                 f"still to run (not done): {self.remaining:.2f} GPU-hours"]
        if self.unknown_models:
            lines.append(f"not counted: no per-step figure for {', '.join(self.unknown_models)} (run `repro bench "
                         "--models ...` on your GPU)")
        return "\n".join(lines)


def estimate(runs: Iterable[tuple[str, Mapping[str, Any], bool]], cal: Calibration) -> Estimate:
    """`runs`: (stage, resolved config, done) of each unique run of a sweep."""
    per_stage: dict[str, list[float]] = {s: [0, 0.0] for s in STAGES}
    remaining, unknown = 0.0, set()
    for stage, config, done in runs:
        hours = run_gpu_hours(config, cal)
        if hours is None:
            unknown.add(config["model"]["name"])
            continue
        per_stage.setdefault(stage, [0, 0.0])
        per_stage[stage][0] += 1
        per_stage[stage][1] += hours
        remaining += 0.0 if done else hours
    rows = [[s, int(n), f"{h:.2f}"] for s, (n, h) in per_stage.items() if n]
    return Estimate(rows, sum(h for _, h in per_stage.values()), remaining, sorted(unknown), cal)


def plan_estimate(plan: Any, gpu_name: str | None = None) -> Estimate:
    """The estimate of an expanded sweep plan (repro/sweep/plan.py)."""
    cal = load_calibration(gpu_name)
    return estimate(((r.stage, r.config, plan.status[rid].state == "done") for rid, r in plan.unique.items()), cal)
