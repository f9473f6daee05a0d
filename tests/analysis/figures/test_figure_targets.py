"""The distillation-targets figure (analysis/figures/targets.py) from a real small 5-fold protocol on digits, planned
by a Table 1 sweep file as the figure reads it: two fold runs of instance labels and their replay final (teacher and
converged labels), then the one-hot baseline of the same column and seed."""

from __future__ import annotations

import matplotlib.image
import pytest

from analysis.figures.make import chosen_runs, make_figures
from figure_sweeps import planned, train_planned, write_sweep

TABLE1 = """
    common: [data=digits, model=smallcnn, split=full, split.folds=2, data.subset=300, data.test_subset=150,
             optim.epochs=1]
    columns:
      Digits/SmallCNN: []
    rows:
      Baseline: [method=baseline]
      Ours (Instance): {learn: [method=instance_labels, method.label_lr=2000]}
"""


@pytest.mark.slow
def test_the_targets_figure_renders_from_a_replay_run_and_a_baseline(tmp_path):
    root = tmp_path / "out"
    sweeps = tmp_path / "sweeps"
    runs = planned(write_sweep(sweeps, 1, TABLE1), root)
    train_planned(runs, lambda p: p.row == "Ours (Instance)")
    lines: list[str] = []
    written = make_figures(root, out_dir=tmp_path / "figs", sweeps_dir=sweeps, log=lines.append, only=["targets"])
    assert any("no finished one-hot baseline" in line for line in lines)  # drawn without that panel
    assert written["figure_targets"] is not None
    train_planned(runs, lambda p: p.row == "Baseline")
    lines.clear()
    written = make_figures(root, out_dir=tmp_path / "figs", sweeps_dir=sweeps, log=lines.append, only=["targets"])
    assert not any("one-hot baseline" in line for line in lines)
    drawn = chosen_runs(root, sweeps_dir=sweeps, only=["targets"])["figure_targets"].runs
    assert drawn == {
        "teacher and labels": [p.run_id for p in runs if p.stage == "final"],
        "baseline": [p.run_id for p in runs if p.row == "Baseline"],
    }  # no Table 2 here: label smoothing's targets take the method's default epsilon
    pixels = matplotlib.image.imread(written["figure_targets"])
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600 and float(pixels[..., :3].var()) > 0.0
