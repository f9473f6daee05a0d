"""Test helper: sweep files laid out as `repro figures` reads them (tableN.yaml in a sweeps directory: a figure draws
the cells of table N), and the runs they plan, trained in this process or fabricated as done run directories."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Iterable

from presets import QUIET
from repro.config import load_config
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.sweep_file import load_sweep
from repro.train import train


def write_sweep(sweeps_dir: Path, table: int, body: str, *, seeds: Iterable[int] = (0,)) -> Path:
    """`<sweeps_dir>/table<table>.yaml`: name, table, metric and seeds, then `body` (common, columns, rows as YAML)."""
    sweeps_dir.mkdir(parents=True, exist_ok=True)
    head = f"name: t{table}\ntable: {table}\nmetric: final_test_acc\nseeds: [{', '.join(map(str, seeds))}]\n"
    path = sweeps_dir / f"table{table}.yaml"
    path.write_text(head + textwrap.dedent(body).strip() + "\n")
    return path


def planned(path: Path, output_root: Path, scale: Scale | None = None) -> list[PlannedRun]:
    return expand_sweep(load_sweep(path), output_root=output_root, scale=scale)


def train_planned(runs: Iterable[PlannedRun], only: Callable[[PlannedRun], bool] = lambda p: True) -> list[RunDir]:
    """Train the planned runs `only` keeps, in plan order (a run after those it depends on), here, with the QUIET
    overrides added as `repro sweep FILE` adds those after FILE; each is the very run the sweep plans (its overrides
    compose its config, so its run id, which leaves out the tracker and the progress bar)."""
    trained = []
    for p in {p.run_id: p for p in runs}.values():
        if only(p):
            result = train(load_config([*p.overrides, *QUIET]))
            assert result.run_dir.run_id == p.run_id
            trained.append(result.run_dir)
    return trained


def fabricate_done(
    root: Path,
    runs: Iterable[PlannedRun],
    write: Callable[[RunDir, PlannedRun], None] = lambda rd, p: None,
    *,
    summary: Callable[[PlannedRun], dict] = lambda p: {"final_test_acc": 0.5, "final_val_acc": 0.5},
) -> list[RunDir]:
    """Every planned run as a done run directory (once per run id): its planned config, a done status, `summary`;
    `write` adds what else a test needs (metrics, label records)."""
    made = []
    for p in {p.run_id: p for p in runs}.values():
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        write(rd, p)
        rd.write_status("done", epoch=2)
        rd.write_summary(summary(p))
        made.append(rd)
    return made
