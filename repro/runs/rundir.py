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
from repro.runs.yaml_text import load_yaml
from repro.schema import identity_config

# "stopped": a tuning run stopped at a rung of successive halving (repro/sweep/stages/tune/halving.py), a finished run
# of its own kind: no summary, and the next rung's job resumes it from its checkpoint if it is promoted.
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
    """The part of a resolved config that determines the results (what the run id hashes). Each key declares
    whether it enters the id where it is declared (`identity=False`, `neutral=`: repro/schema/declare.py), and
    repro/schema/identity.py reads it from the run's schema: a key that never changes results (`output_root`,
    `device`, `data.root`, ...) is left out, and so is a key added after runs existed while it has the value they
    trained with (`precision: fp32`, `method.probability_clip: null`, ...), so their ids stay the same; a tuned run
    hashes its tuning runs, not the values it chose (repro/sweep/stages/tune/tuning.py)."""
    # the run's schema lives in repro.conf, which registers its resolvers with OmegaConf when imported
    from repro.conf.schema import Run  # deferred: omegaconf, kept from `import repro.runs.rundir`

    return identity_config(Run, config)


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
        return load_yaml(self.config_file.read_text())

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
