"""Cluster profiles (slurm/profiles/NAME.yaml): the resources of every job of a sweep, as submitit parameters. It
stands under the budget (which checks and prices `runs_per_gpu` against it) and the SLURM executor (which submits
with it), and imports neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from repro.checkout import bundled, shipped_path
from repro.errors import UserError

KEYS = (
    "name",
    "partition",
    "gpus_per_node",
    "cpus_per_task",
    "mem_gb",
    "timeout_min",
    "array_parallelism",
    "account",
    "qos",
    "additional_parameters",
    "runs_per_gpu",
    "gpu_memory_gb",
)


@dataclass(frozen=True)
class ClusterProfile:
    path: Path
    name: str
    partition: str | None = None
    gpus_per_node: int | None = None
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    timeout_min: int | None = None
    array_parallelism: int | None = None
    account: str | None = None
    qos: str | None = None
    additional_parameters: dict[str, Any] = field(default_factory=dict)
    # Not sbatch options: runs trained side by side per job (repro/sweep/executors/packed.py; `--runs-per-gpu`
    # overrides it) and the GPU's memory, which K runs' measured peak memory must fit (repro/sweep/budget/packing.py).
    runs_per_gpu: int | None = None
    gpu_memory_gb: float | None = None

    def submitit_parameters(self) -> dict[str, Any]:
        """Keyword arguments of submitit's AutoExecutor.update_parameters (None: the cluster's default)."""
        params: dict[str, Any] = {
            "slurm_partition": self.partition,
            "cpus_per_task": self.cpus_per_task,
            "mem_gb": self.mem_gb,
            "timeout_min": self.timeout_min,
            "slurm_array_parallelism": self.array_parallelism,
            "gpus_per_node": self.gpus_per_node or None,
            "slurm_account": self.account,
            "slurm_qos": self.qos,
        }
        params = {k: v for k, v in params.items() if v is not None}
        if self.additional_parameters:
            params["slurm_additional_parameters"] = dict(self.additional_parameters)
        return params


# The profiles that come with the project (local: the throw-away test cluster; example-gpu: a template), shipped in
# the package (repro/checkout.py), so `--profile local` resolves from any working directory.
BUNDLED_PROFILES = bundled("slurm") / "profiles"


def bundled_profile_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED_PROFILES.glob("*.yaml"))


def resolve_profile_path(value: str | Path) -> Path:
    """A profile's file: `value` itself when it is a file (a user's own profile, wherever it is; a bundled one as
    slurm/profiles/NAME.yaml from any directory), else the bare name of a profile under ./slurm/profiles/ or among the
    bundled ones (`local` -> slurm/profiles/local.yaml); a one-paragraph error naming the bundled profiles when it is
    neither."""
    path = shipped_path(value)
    if path.is_file():
        return path
    name = str(value)
    if path.name == name and not name.endswith((".yaml", ".yml")):  # a bare name, not a path
        for candidate in (Path("slurm/profiles") / f"{name}.yaml", BUNDLED_PROFILES / f"{name}.yaml"):
            if candidate.is_file():
                return candidate
    names = ", ".join(bundled_profile_names()) or "none found"
    raise UserError(
        f"No cluster profile {name!r}: it is not a file, nor the name of a bundled profile (bundled, in "
        f"{BUNDLED_PROFILES}: {names}). Give the path of your own profile YAML (copy "
        f"{BUNDLED_PROFILES / 'example-gpu.yaml'} and fill in your partition and account), or one of those names "
        "(`--profile local` is the throw-away test cluster of slurm/cluster.sh). Nothing was submitted."
    )


def load_profile(value: str | Path) -> ClusterProfile:
    """Read and check a cluster profile; an unknown key or a wrong type is an error naming the key and the file."""
    path = resolve_profile_path(value)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: a cluster profile is a mapping with keys {', '.join(KEYS)}.")
    unknown = [k for k in raw if k not in KEYS]
    if unknown:
        raise UserError(
            f"{path}: unknown key {unknown[0]!r}; a cluster profile has the keys {', '.join(KEYS)} "
            "(extra sbatch options go under additional_parameters)."
        )
    for key in ("gpus_per_node", "cpus_per_task", "timeout_min", "array_parallelism", "runs_per_gpu"):
        value_ = raw.get(key)
        if value_ is not None and (not isinstance(value_, int) or isinstance(value_, bool) or value_ < 0):
            raise UserError(f"{path}: {key}={value_!r} must be a whole number >= 0 (or null for the default).")
    for key in ("mem_gb", "gpu_memory_gb"):
        mem = raw.get(key)
        if mem is not None and (not isinstance(mem, (int, float)) or isinstance(mem, bool) or mem <= 0):
            raise UserError(f"{path}: {key}={mem!r} must be a positive number of GB (or null).")
    if raw.get("runs_per_gpu") == 0:
        raise UserError(f"{path}: runs_per_gpu=0: give how many runs share one GPU, at least 1 (or null for 1).")
    for key in ("partition", "account", "qos", "name"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise UserError(f"{path}: {key}={raw[key]!r} must be a string (or null).")
    extra = raw.get("additional_parameters") or {}
    if not isinstance(extra, dict):
        raise UserError(
            f"{path}: additional_parameters must be a mapping of sbatch options, e.g. {{constraint: a100}}."
        )
    fields_ = {k: raw.get(k) for k in KEYS if k not in ("name", "additional_parameters")}
    return ClusterProfile(path=path, name=raw.get("name") or path.stem, additional_parameters=dict(extra), **fields_)
