"""The memorisation figure (analysis/figures/memorisation.py): drawn by `repro figures` from noisy digits runs of
several methods, its lines are the runs' metrics.jsonl values, tuning runs are left out, and without memorisation
records it is skipped with a reason."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pytest

from analysis.collect import collect_runs
from analysis.figures import memorisation
from analysis.figures.make import figure_runs
from analysis.figures.memorisation import _histories, _mean_curve, method_label
from figure_sweeps import planned, train_planned, write_sweep
from presets import NOISY
from repro.cli import main
from repro.figures.common import Skip

METHODS = {
    "one-hot": "One-hot: [method=baseline]",
    "smoothing eps=0.4": "Label Smoothing (eps=0.4): [method=label_smoothing, method.epsilon=0.4]",
    "backward, known T": "Backward (known T): [method=loss_correction, method.correction=backward]",
}
TABLE12 = f"""
    common: [{", ".join([*NOISY, "optim.epochs=2"])}]
    columns:
      Digits/40%: []
    rows:
""" + "".join(f"      {row}\n" for row in METHODS.values())


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    here = tmp_path_factory.mktemp("memorisation")
    train_planned(planned(write_sweep(here / "sweeps", 12, TABLE12, seeds=(0, 1)), here / "out"))
    return here / "out"


@pytest.mark.slow
def test_repro_figures_draws_it_from_a_noisy_digits_sweep(root, tmp_path, capsys):
    out = tmp_path / "figs"
    sweeps = str(root.parent / "sweeps")
    command = ["figures", "--runs", str(root), "--sweeps-dir", sweeps, "--out", str(out), "--figures", "memorisation"]
    assert main(command) == 0
    printed = capsys.readouterr().out
    line = next(line for line in printed.splitlines() if line.startswith("figure_memorisation draws"))
    for label in METHODS:
        assert f"{label} (2)" in line  # two seeds per line
    image = matplotlib.image.imread(out / "figure_memorisation.png")
    assert image.shape[0] > 200 and image.shape[1] > 1000 and image[..., :3].std() > 0.05


@pytest.mark.slow
def test_lines_are_the_mean_of_the_runs_records(root):
    frame = collect_runs(root)
    from analysis.figures.smoothing_noise import noisy_runs

    lines = _histories(noisy_runs(frame))
    assert set(lines) == set(METHODS)
    baseline = frame[frame["method.name"] == "baseline"]
    records = [[json.loads(r) for r in open(f"{p}/metrics.jsonl")] for p in baseline["path"]]
    for key in ("memorised_noisy", "logit_norm"):
        x, y = _mean_curve(lines["one-hot"], key)
        assert list(x) == [1, 2]
        assert np.allclose(y, [np.mean([rec[e][key] for rec in records]) for e in range(2)])


def test_tuning_runs_are_not_lines():
    tuned = {"method.name": "label_smoothing", "method.epsilon": 0.2, "_tuned": True}
    assert method_label(tuned) is None
    assert method_label({**tuned, "_tuned": False}) == "smoothing eps=0.2"
    assert method_label({"method.name": "instance_labels", "_tuned": False, "_method_tuned": True}) is None
    assert (
        method_label(
            {"method.name": "label_smearing", "method.smearing": "smoothing", "method.smoothing_epsilon": -0.25}
        )
        == "smearing eps=-0.25"
    )


@pytest.mark.slow
def test_runs_without_records_are_skipped_with_a_reason(root, tmp_path):
    with pytest.raises(Skip, match="matching --where"):
        memorisation.choose(figure_runs(root, sweeps_dir=root.parent / "sweeps", where={"noise.fraction": "0.9"}))
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "table1.yaml").write_text(
        (root.parent / "sweeps" / "table12.yaml").read_text().replace("12", "1")
    )
    with pytest.raises(Skip, match="no sweep file of table 12"):
        memorisation.choose(figure_runs(root, sweeps_dir=tmp_path / "sweeps"))
