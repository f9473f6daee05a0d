"""The run directory contract (docs/architecture.md): one run = one resolved config = one directory.

A `summary.json` that exists means "done"; everything is written atomically so a crash or preemption never
leaves a summary (or any other file) that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from repro.runs.io import atomic_write_json, atomic_write_text, read_json, remove_stale_temps
from repro.runs.runlock import FileLock, describe

# Fields that never change results: they are left out of the run id. `device` and `channels_last` change only the
# float rounding (like cuDNN's kernel choice), not the statistics: a run may move between a GPU and a CPU, or
# between memory formats, and stay the same run (the device it ran on is in provenance.json).
NON_RESULT_KEYS = (
    "tracker",
    "output_root",
    "progress",
    "sweep",
    "eval_batch_size",
    "device",
    "channels_last",
    "notes",
    "memorisation_samples",
    "halving",  # the rung a successive-halving job stops at (repro/training/halving.py): the same run, stopped early
)
# noise.file: where the user's CIFAR-N copy lives (like data.root); the run records the file's md5 instead.
NON_RESULT_NESTED = (("data", "root"), ("noise", "file"))
# Keys that change results but were added after runs existed: hashed only when they differ from their default, so
# every run id made before they existed stays the same.
HASHED_UNLESS_DEFAULT = {
    "precision": "fp32",
    "deterministic": False,
    "compile_jvp": False,
    "tune": {"keys": [], "runs": [], "select": "final_val_acc", "chosen": None},
}

# The same for keys inside a group (group, key) -> default: a method option added after runs existed; `tune.halving`:
# a tuned run that chose among a successive-halving stage's finalists (null: among the whole grid).
NESTED_HASHED_UNLESS_DEFAULT = {
    ("method", "estimate_at"): "final",
    ("optim", "lr_floor"): 0.0,
    ("optim", "lookahead_lr"): "current",
    ("tune", "halving"): None,
    ("split", "held_out_labels"): "clean",
    # Patrini et al.'s clip of p before the log (repro.losses.clipped_log_softmax): the default of the losses with a
    # negative weight on a log-probability (backward correction, negative smoothing; repro/conf/resolvers.py). null is
    # the unclipped loss those runs trained with before the clip, so their ids change and a finished run of the old
    # form is never taken for a clipped one; every other config (null) keeps its id.
    ("method", "probability_clip"): None,
}

# "stopped": a tuning run stopped at a rung of successive halving (repro/training/halving.py), a finished run of its
# own kind: no summary, and the next rung's job resumes it from its checkpoint if it is promoted.
STATES = ("running", "interrupted", "failed", "done", "stopped")


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"data": {"name": "digits"}} -> {"data.name": "digits"}; lists become tuples (hashable, comparable). The one
    dotted view of a config: the run frame's columns, figure selections and the planner's fold checks use it."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = hashable(value)
    return flat


def hashable(value: Any) -> Any:
    """A config or summary value as a hashable cell (a list becomes a tuple, recursively)."""
    return tuple(hashable(v) for v in value) if isinstance(value, list) else value


def result_config(config: Mapping[str, Any]) -> dict:
    """The part of a resolved config that determines the results (what the run id hashes)."""
    cfg = {k: v for k, v in config.items() if k not in NON_RESULT_KEYS}
    # nested first: a default `tune` node holds `halving: null`, and is then the default of HASHED_UNLESS_DEFAULT
    for (parent, key), default in NESTED_HASHED_UNLESS_DEFAULT.items():
        if isinstance(cfg.get(parent), Mapping) and key in cfg[parent] and _same_value(cfg[parent][key], default):
            cfg[parent] = {k: v for k, v in cfg[parent].items() if k != key}
    for key, default in HASHED_UNLESS_DEFAULT.items():
        if key in cfg and _same_value(cfg[key], default):
            del cfg[key]
    for parent, key in NON_RESULT_NESTED:
        if isinstance(cfg.get(parent), Mapping):
            cfg[parent] = {k: v for k, v in cfg[parent].items() if k != key}
    tune = cfg.get("tune")
    if isinstance(tune, Mapping):
        # A tuned run (repro/training/tuning.py) is its tuning runs plus the rest of its config: the tuned keys' values
        # and
        # the chosen ones come from those runs, so the id is the same before and after the run picks them.
        cfg["tune"] = {k: v for k, v in tune.items() if k != "chosen"}
        for key in tune.get("keys") or []:
            cfg = _without(cfg, str(key).split("."))
    return cfg


def _without(tree: Mapping[str, Any], parts: list[str]) -> dict:
    """A copy of `tree` without the dotted key (copying only the dicts on its path)."""
    out = dict(tree)
    if len(parts) == 1:
        out.pop(parts[0], None)
    elif isinstance(out.get(parts[0]), Mapping):
        out[parts[0]] = _without(out[parts[0]], parts[1:])
    return out


def _same_value(value: Any, default: Any) -> bool:
    """`deterministic=false` and `deterministic: "false"` (a string from a hand-written config) are the default."""
    if isinstance(default, bool) and isinstance(value, str):
        return value.strip().lower() == str(default).lower()
    return value == default if not isinstance(value, str) else value.strip().lower() == str(default).lower()


def run_id(config: Mapping[str, Any]) -> str:
    """Stable id: a readable tag plus a hash of the result-affecting fields (key order does not matter)."""
    canonical = json.dumps(result_config(config), sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    tag = "-".join(str(x) for x in (config["data"]["name"], config["model"]["name"], config["method"]["name"]))
    return f"{tag}-{digest}"


@dataclass(frozen=True)
class RunDir:
    """Paths and atomic records of one run."""

    path: Path

    @classmethod
    def for_config(cls, config: Mapping[str, Any]) -> RunDir:
        return cls(Path(config["output_root"]) / "runs" / run_id(config))

    @property
    def run_id(self) -> str:
        return self.path.name

    config_file = property(lambda self: self.path / "config.yaml")
    status_file = property(lambda self: self.path / "status.json")
    metrics_file = property(lambda self: self.path / "metrics.jsonl")
    summary_file = property(lambda self: self.path / "summary.json")
    checkpoint_file = property(lambda self: self.path / "checkpoint.pt")
    labels_dir = property(lambda self: self.path / "labels")
    log_file = property(lambda self: self.path / "train.log")
    lock_file = property(lambda self: self.path / "writer.lock")

    def is_done(self) -> bool:
        return self.summary_file.exists()

    def write_config(self, config: Mapping[str, Any]) -> None:
        atomic_write_text(self.config_file, yaml.safe_dump(dict(config), sort_keys=False))

    def read_config(self) -> dict:
        return yaml.safe_load(self.config_file.read_text())

    def write_status(self, state: str, *, epoch: int, message: str = "", **extra: Any) -> None:
        assert state in STATES, state
        record = {"state": state, "epoch": epoch, "message": message, "updated": time.time(), **extra}
        atomic_write_json(self.status_file, record)

    def read_status(self) -> dict | None:
        return read_json(self.status_file) if self.status_file.exists() else None

    def write_metrics(self, history: list[dict]) -> None:
        """Rewrite the whole per-epoch log: small, and never half-appended after a crash."""
        atomic_write_text(self.metrics_file, "".join(json.dumps(row, sort_keys=True) + "\n" for row in history))

    def read_metrics(self) -> list[dict]:
        if not self.metrics_file.exists():
            return []
        return [json.loads(line) for line in self.metrics_file.read_text().splitlines() if line.strip()]

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        atomic_write_json(self.summary_file, dict(summary))

    def read_summary(self) -> dict | None:
        return read_json(self.summary_file) if self.summary_file.exists() else None

    def hold(self, wait: float | bool = False) -> FileLock:
        """Become the run's one writer (repro/runs/runlock.py), or raise LockHeld naming the holder; then sweep away
        the temp files a killed writer left (no live process can be writing them now)."""
        lock = FileLock(
            self.lock_file,
            what=f"run {self.run_id}",
            log=self.log,
            hint="Another `repro train` or sweep job is training this run right now; wait for it "
            "with `repro train --wait ...` (the same overrides), or train a different config. ",
        )
        lock.acquire(
            wait,
            on_wait=lambda holder: print(  # stderr: the terminal, or the SLURM job's .err file
                f"run {self.run_id} is held by {describe(holder)}; waiting for it to finish",
                file=sys.stderr,
                flush=True,
            ),
        )
        removed = remove_stale_temps(self.path)
        if removed:
            self.log(
                f"removed {len(removed)} temp file(s) a killed writer left: "
                + ", ".join(str(p.relative_to(self.path)) for p in removed)
            )
        return lock

    def log(self, line: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")
