"""Test helper: a digits sweep file whose one row learns class labels (two folds and the replay final) after a tuning
stage over the grid a test gives, and the scale the tests train it at (one epoch, 200 training and 100 test samples),
as a `Scale` and as the same command-line flags."""

from __future__ import annotations

import textwrap
from pathlib import Path

from presets import QUIET_YAML
from repro.sweep.spec.model import Scale

SCALE = Scale(epochs=1, subset=200, test_subset=100)
SUBSET_ARGS = ["--subset", str(SCALE.subset), "--test-subset", str(SCALE.test_subset)]  # for a test setting its epochs
SCALE_ARGS = ["--epochs", str(SCALE.epochs), *SUBSET_ARGS]


def tuned_sweep_text(grid: str) -> str:
    """The sweep file, `grid` the tuning stage's grid as YAML flow text (e.g. "{method.label_lr: [0.3, 3]}")."""
    return textwrap.dedent(
        f"""
        name: tuned
        metric: final_test_acc
        seeds: [0]
        common: [data=digits, model=smallcnn, split=full, split.folds=2, {QUIET_YAML}]
        columns:
          Digits: []
        rows:
          Ours (Class):
            learn: [method=class_labels]
            tune:
              grid: {grid}
              select: final_val_acc
        """
    )


def write_tuned_sweep(tmp_path: Path, grid: str) -> Path:
    """Write the sweep file as tmp_path/tuned.yaml and return its path."""
    path = tmp_path / "tuned.yaml"
    path.write_text(tuned_sweep_text(grid))
    return path
