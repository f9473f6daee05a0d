"""Test helper: a digits sweep whose one plain row (label smoothing) tunes epsilon over 4 points by successive
halving (eta 2), and the scale the halving tests train it at: 4 epochs, so the rungs are epochs 1, 2 and 4 and the
points that train to each are 4, 2 and 1 (8 epochs of tuning where the grid trains 16); 200 training and 100 test
samples. The race sets `min_fraction: 0` and `finalists: 1` (the defaults put the first rung at a quarter of the run
and keep eta points to the end, tests/sweep/stages/tune/test_tune_halving.py) so that three rungs fit in four epochs.
Shared by tests/sweep/stages/tune/test_tune_halving.py and tests/sweep/executors/test_sweep_slurm_halving.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

from presets import QUIET_YAML
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import Scale

SCALE = Scale(epochs=4, subset=200, test_subset=100)
RUNGS = (1, 2, 4)
SURVIVORS = (4, 2, 1)
HALVING_SWEEP = """
    name: {name}
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, {quiet}]
    columns:
      Digits: []
    rows:
      Label Smoothing:
        overrides: [method=label_smoothing]
        tune:
          grid: {{method.epsilon: {values}}}
          {strategy}eta: 2
          min_fraction: 0.0
          finalists: 1
"""


def write_halving_sweep(
    tmp_path: Path, name: str = "halving", strategy: str | None = "halving", values: str = "[0.0, 0.1, 0.2, 0.3]"
) -> Path:
    """The sweep file; `strategy` None leaves the stage unpinned (the sweep's `--tune-strategy` decides); `values`
    the grid's epsilons (YAML flow text; the SLURM test races two, the smallest race that still has two rungs)."""
    path = tmp_path / f"{name}.yaml"
    pinned = "" if strategy is None else f"strategy: {strategy}\n          "
    text = HALVING_SWEEP.format(name=name, strategy=pinned, quiet=QUIET_YAML, values=values)
    path.write_text(textwrap.dedent(text))
    return path


def epoch_lines(rd: RunDir) -> list[int]:
    """The epochs the run's train.log says were trained, in order (one line per epoch trained, resumes included):
    an epoch trained twice shows twice."""
    if not rd.log_file.exists():
        return []
    out = []
    for line in rd.log_file.read_text().splitlines():
        words = line.split()
        if len(words) > 3 and words[3] == "epoch" and "/" in words[4]:
            out.append(int(words[4].split("/")[0]))
    return out
