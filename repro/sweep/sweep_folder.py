"""A sweep's folder, `<output_root>/sweeps/<name>/`, and the one form of a planned run that the executors train.

The folder holds selection.json (what the sweep was last asked for, so that `repro sweep status` shows the same
runs), jobs.json (its SLURM jobs:
repro/sweep/executors/slurm/registry.py), slurm/ (submitit's job files and logs) and planned/<run_id>.json: each
planned run's resolved config, written (atomically) when the sweep is planned to run. That file is what an executor
trains, here or on a SLURM node: the config the planner resolved and validated, not its overrides composed again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from repro.errors import UserError
from repro.runs.io import atomic_write_json, atomic_write_text
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec


def sweep_dir(output_root: str | Path, name: str) -> Path:
    """Where a sweep keeps its planned configs, job registry, submitit's job files and logs."""
    return Path(output_root) / "sweeps" / name


def remember_selection(folder: Path, spec: SweepSpec, scale: Scale | None, extra: Sequence[str]) -> None:
    """What the last run of this sweep was asked for, so `repro sweep status FILE` shows the same runs."""
    atomic_write_json(
        folder / "selection.json",
        {
            "rows": spec.rows,
            "columns": spec.columns,
            "seeds": spec.seeds,
            "scale": None if scale is None else scale.record(),
            "extra_overrides": list(extra),
        },
    )


def last_selection(output_root: str | Path, name: str) -> dict | None:
    """What `repro sweep` last ran of this sweep in this output root (None: never); its scale as `Scale.record()`
    writes it, whichever version of `repro sweep` wrote the file (`Scale.from_record`)."""
    path = sweep_dir(output_root, name) / "selection.json"
    if not path.exists():
        return None
    selection = json.loads(path.read_text())
    if selection.get("scale"):
        selection["scale"] = Scale.from_record(selection["scale"]).record()
    return selection


def planned_config_file(folder: Path, run_id: str) -> Path:
    return folder / "planned" / f"{run_id}.json"


def write_planned_configs(folder: Path, runs: Iterable[PlannedRun]) -> dict[str, Path]:
    """Write each run's resolved config into the sweep's folder (a file that already holds it is left as it is);
    returns run id -> its file, what the executors are given."""
    files = {}
    for run in runs:
        path = planned_config_file(folder, run.run_id)
        if not _holds(path, run.config):
            atomic_write_text(path, json.dumps(run.config, indent=2) + "\n")  # in the config's own key order
        files[run.run_id] = path
    return files


def read_planned_config(path: str | Path) -> dict[str, Any]:
    """A planned run's resolved config, as the planner wrote it."""
    try:
        config = _read(Path(path))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"The planned config {path} cannot be read ({exc}). It is written by `repro sweep` when it plans the "
            "run; run the same `repro sweep` command again, which writes it anew and resubmits what is missing."
        ) from None
    if not isinstance(config, Mapping):
        raise UserError(f"The planned config {path} is not a config mapping; run the same `repro sweep` again.")
    return dict(config)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _holds(path: Path, config: Mapping[str, Any]) -> bool:
    try:
        return _read(path) == config
    except (OSError, ValueError):
        return False
