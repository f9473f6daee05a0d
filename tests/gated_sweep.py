"""Test helper: a digits sweep file with a baseline gate (repro/sweep/stages/gate/gate.py): the one-hot Baseline cell
(two seeds)
checks the recipe against a number the test gives, and one other row waits for it. Two epochs on 200 training and
100 test samples: seconds per run."""

from __future__ import annotations

import statistics
import textwrap
from pathlib import Path

from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

GATED = """
    name: {name}
    metric: final_test_acc
    seeds: {seeds}
    common: [data=digits, model=smallcnn, split=full, optim.epochs=2, data.subset=200, data.test_subset=100,
             tracker=none, progress=plain]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      {other}: [{method}]
    gate:
      source: "the test's number"
      rows:
        Baseline:
          Digits: {{number: {number}, std: 0.1, effect: 2.0}}
"""


def write_gated_sweep(
    tmp_path: Path,
    number: float,
    *,
    name: str = "gated",
    other: str = "Smoothing",
    method: str = "method=label_smoothing",
    seeds: str = "[0, 1]",
) -> Path:
    """Write tmp_path/<name>.yaml, its gate at `number` (percent), and return its path; `seeds` (YAML flow text) for
    a test that needs fewer runs than the two seeds' four."""
    path = tmp_path / f"{name}.yaml"
    text = GATED.format(name=name, number=number, other=other, method=method, seeds=seeds)
    path.write_text(textwrap.dedent(text))
    return path


def baseline_mean(path: Path, out: Path) -> float:
    """The mean final test accuracy (percent) of the Baseline cell's runs in `out` (every one must be done)."""
    runs = [r for r in expand_sweep(load_sweep(path), output_root=out.resolve()) if r.row == "Baseline"]
    return statistics.fmean(100 * RunDir(out / "runs" / r.run_id).read_summary()["final_test_acc"] for r in runs)


def row_runs(path: Path, out: Path, row: str) -> list[RunDir]:
    """The run directories of one row of the gated sweep in `out`."""
    return [
        RunDir(out / "runs" / r.run_id)
        for r in expand_sweep(load_sweep(path), output_root=out.resolve())
        if r.row == row
    ]
