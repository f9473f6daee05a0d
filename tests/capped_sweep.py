"""Test helper: a digits sweep file of two rows that cost differently (Baseline: 2 epochs, Longer: 6), and a budget
(`--max-gpu-hours`, repro/sweep/stages/budget_cap/) between their prices: it admits every Baseline run and no Longer
run, whatever the Baseline runs are then measured at. Priced at the H100 figures: the caller points
REPRO_CALIBRATION_DIR at an empty folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

from presets import QUIET_YAML
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.budget_cap.cap import run_hours
from repro.sweep.sweep_file import load_sweep

CAPPED = """
    name: capped
    metric: final_test_acc
    seeds: {seeds}
    common: [data=digits, model=smallcnn, split=full, optim.epochs=2, data.subset=200, data.test_subset=100,
             {quiet}]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      Longer: [method=baseline, optim.epochs=6]
"""


def price(run: PlannedRun) -> float:
    """The run's price at the calibration in use (positive: every digits run is priced)."""
    hours = run_hours(run, load_calibration())
    assert hours is not None and hours > 0
    return hours


def write_capped_sweep(tmp_path: Path, seeds: str = "[0, 1]") -> tuple[Path, dict[str, list[PlannedRun]], float]:
    """tmp_path/capped.yaml, its runs by row (output root tmp_path/out), and a cap that admits every Baseline run and
    no Longer run."""
    path = tmp_path / "capped.yaml"
    path.write_text(textwrap.dedent(CAPPED.format(seeds=seeds, quiet=QUIET_YAML)))
    rows: dict[str, list[PlannedRun]] = {}
    for run in expand_sweep(load_sweep(path), output_root=(tmp_path / "out").resolve()):
        rows.setdefault(run.row, []).append(run)
    cheap, dear = max(map(price, rows["Baseline"])), min(map(price, rows["Longer"]))
    cap = sum(map(price, rows["Baseline"])) + cheap / 2
    assert dear > cap  # a Longer run alone passes it
    return path, rows, cap
