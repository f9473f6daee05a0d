"""The distillation-targets figure (analysis/figures/targets.py) from a real small 5-fold protocol on digits: two
fold runs of instance labels, their replay final (teacher and converged labels) and a one-hot baseline."""

from __future__ import annotations

import matplotlib.image

from analysis.figures.make import make_figures
from repro.config import load_config
from repro.train import train

FAST = ["tracker=none", "progress=none", "data.subset=300", "data.test_subset=150", "optim.epochs=1", "split.folds=2"]


def test_the_targets_figure_renders_from_a_replay_run_and_a_baseline(tmp_path):
    root = tmp_path / "out"
    common = [*FAST, f"output_root={root}"]
    for fold in (0, 1):
        train(load_config([*common, "method=instance_labels", "method.label_lr=2000", f"split.fold={fold}"]))
    train(load_config([*common, "method=replay", "split=full", 'method.learn.overrides=["method.label_lr=2000"]']))
    lines: list[str] = []
    written = make_figures(root, out_dir=tmp_path / "figs", log=lines.append)
    assert any("no finished one-hot baseline" in line for line in lines)  # drawn without that panel
    assert written["figure_targets"] is not None
    train(load_config([*common, "method=baseline", "split=full"]))
    lines.clear()
    written = make_figures(root, out_dir=tmp_path / "figs", log=lines.append)
    assert not any("one-hot baseline" in line for line in lines)
    pixels = matplotlib.image.imread(written["figure_targets"])
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600 and float(pixels[..., :3].var()) > 0.0
