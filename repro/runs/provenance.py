"""What a run ran on: `provenance.json` in its run directory (written atomically at start, updated at the end).

A run may be resumed on another node, GPU or commit (preemption, requeue), so each process that works on it adds a
session; the top-level fields repeat the latest session's, which is what `analysis.collect` reads. Nothing here
may stop a run: a field that cannot be found is recorded as null.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from repro.checkout import CHECKOUT_ROOT
from repro.runs.io import atomic_write_json, read_json

FILE = "provenance.json"
PACKAGES = ("torch", "torchvision", "hydra-core", "omegaconf", "wandb", "submitit", "numpy", "repro-soft-labels")
SLURM_VARS = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_PARTITION", "SLURM_CLUSTER_NAME")


def git_state(root: Path = CHECKOUT_ROOT) -> dict[str, Any]:
    """The project checkout's commit and whether its tracked files differ from it (None outside a git checkout,
    e.g. a wheel install, even one inside another repository's tree: the repository's top must be `root`)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD") if top and Path(top).resolve() == Path(root).resolve() else None
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux's /proc/cpuinfo; elsewhere what `platform` knows)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_info() -> dict[str, Any]:
    """What decides a CPU run's last bits: torch picks its kernels by the CPU's vector instructions (AVX2, AVX512,
    ...), so the same seed and code give different CPU results on another CPU (measured: a 30-epoch noisy digits
    run ended at 78.7% test accuracy with AVX512 kernels and 77.2% with AVX2 ones)."""
    return {
        "model": cpu_model(),
        "capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "forced_capability": os.environ.get("ATEN_CPU_CAPABILITY"),
    }


def device_info(device: torch.device | str | None = None) -> dict[str, Any]:
    """The compute device as torch sees it: GPU name, CUDA and cuDNN versions (None on a CPU), and the CPU."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cpu = cpu_info()
    info: dict[str, Any] = {
        "device": str(device),
        "device_name": cpu["model"],
        "cpu": cpu,
        "cuda": torch.version.cuda,
        "cudnn": None,
        "gpu_count": 0,
    }
    if device.type == "cuda" and torch.cuda.is_available():
        index = device.index if device.index is not None else torch.cuda.current_device()
        info["device_name"] = torch.cuda.get_device_name(index)
        info["cudnn"] = torch.backends.cudnn.version()
        info["gpu_count"] = torch.cuda.device_count()
    return info


def session(hardware: dict[str, Any] | None = None, device: torch.device | str | None = None) -> dict[str, Any]:
    """Everything about this process that may matter for its results."""
    return {
        **git_state(),
        "versions": versions(),
        **device_info(device),
        "hardware": hardware or {},
        "host": socket.gethostname(),
        "slurm": {k: os.environ[k] for k in SLURM_VARS if k in os.environ},
        "argv": list(sys.argv),
        "started": _now(),
        "ended": None,
    }


def record_start(
    run_dir: Path, hardware: dict[str, Any] | None = None, device: torch.device | str | None = None
) -> None:
    """Add this process's session to `<run_dir>/provenance.json` (creating it)."""
    path = Path(run_dir) / FILE
    sessions = _read(path).get("sessions", [])
    current = session(hardware, device)
    atomic_write_json(
        path,
        {
            **current,
            "first_started": (sessions[0] if sessions else current)["started"],
            "sessions": [*sessions, current],
        },
    )


def record_fields(run_dir: Path, fields: dict[str, Any]) -> None:
    """Add fields to `<run_dir>/provenance.json` (e.g. the tuned values and their tuning runs); none: no write."""
    if not fields:
        return
    path = Path(run_dir) / FILE
    atomic_write_json(path, {**_read(path), **fields})


def record_end(run_dir: Path, state: str) -> None:
    """Stamp the end time and final state of this process's session."""
    path = Path(run_dir) / FILE
    record = _read(path)
    if not record.get("sessions"):
        return
    record["sessions"][-1].update(ended=_now(), state=state)
    record.update(ended=record["sessions"][-1]["ended"], state=state)
    atomic_write_json(path, record)


def read(run_dir: Path) -> dict[str, Any]:
    return _read(Path(run_dir) / FILE)


def commits(record: dict[str, Any]) -> list[str]:
    """Every commit a run's sessions ran (in order, unique; 'unknown' for a session outside git)."""
    seen = [str(s.get("commit") or "unknown") for s in record.get("sessions", [])]
    return list(dict.fromkeys(seen))


def _read(path: Path) -> dict[str, Any]:
    try:
        return read_json(path) if path.exists() else {}
    except (OSError, ValueError):
        return {}  # a damaged record is replaced, never fatal


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
