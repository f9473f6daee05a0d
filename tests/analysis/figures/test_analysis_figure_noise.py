"""The label-noise methods' figure (analysis/figures/noise_methods.py) from a digits Table 6 whose runs are fabricated
run directories: which runs it picks (each method's row of the sweep file), the curves it draws (mean and std over
seeds), notes for methods without runs, NaN-tolerance, --where, and the hook into `repro figures`
(analysis.figures.make.FIGURES)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from analysis.figures import make as figures
from analysis.figures import noise_methods as figure_noise
from analysis.figures.figure import FigureRuns
from figure_sweeps import fabricate_done, planned, write_sweep
from png_pixels import distinct_colours
from repro.runs.rundir import RunDir

TABLE6 = """
    common: [data=digits, model=smallcnn, split=noisy, noise=uniform, data.subset=600]
    columns:
      Digits/40%: [noise.fraction=0.4]
      Digits/20%: [noise.fraction=0.2]
    rows:
      Baseline: [method=baseline]
      Co-teaching: [method=coteaching]
      L2RW: [method=l2rw]
      Data Parameters: [method=data_parameters]
      Ours (Instance labels): [method=instance_labels, method.curriculum=entropy]
      MentorNet: [method=focal_loss]  # a stand-in without a mentor to plan: the figure reads the row's metrics only
"""
DP = {0: [1.01, 1.05, 1.10], 1: [1.03, 1.07, 1.20]}  # temperature_mean_noisy per seed
# (row, column, seed) -> the run's metrics rows; a planned run without rows here is not started
ROWS = {
    **{
        ("Data Parameters", "Digits/40%", seed): [
            {"temperature_mean_noisy": n, "temperature_mean_clean": 1 - (n - 1)} for n in noisy
        ]
        for seed, noisy in DP.items()
    },
    ("Data Parameters", "Digits/20%", 0): [{"temperature_mean_noisy": 5.0, "temperature_mean_clean": 5.0}] * 3,
    ("L2RW", "Digits/40%", 0): [
        {"weight_mean_noisy": math.nan, "weight_mean_clean": 1.2, "weight_share_noisy": math.nan},
        {"weight_mean_noisy": 0.4, "weight_mean_clean": 1.3, "weight_share_noisy": 0.15},
        {"weight_mean_noisy": 0.3, "weight_mean_clean": 1.4, "weight_share_noisy": 0.12},
    ],
    ("Co-teaching", "Digits/40%", 0): [{"selected_noisy_share": s, "selected_fraction": 0.8} for s in (0.35, 0.3, 0.2)],
    ("Ours (Instance labels)", "Digits/40%", 0): [{"noisy_top1_corrected": c} for c in (0.3, 0.5, 0.6)],
    ("Baseline", "Digits/40%", 0): [{}] * 3,
    ("MentorNet", "Digits/40%", 0): [{"weight_mean_noisy": w, "weight_mean_clean": 0.9} for w in (0.9, 0.4, 0.1)],
}


def fabricate(root: Path, rows: dict = ROWS) -> dict[tuple, str]:
    """The runs of ROWS done, Co-teaching's second seed at 40% running; {(row, column, seed): run id}."""
    runs = planned(write_sweep(root.parent / "sweeps", 6, TABLE6, seeds=(0, 1)), root)
    ids = {(p.row, p.column, p.seed): p.run_id for p in runs}

    def metrics(rd: RunDir, p) -> None:
        rd.write_metrics(
            [{"epoch": e + 1, "test_acc": 0.5, **row} for e, row in enumerate(rows[(p.row, p.column, p.seed)])]
        )

    fabricate_done(
        root,
        [p for p in runs if (p.row, p.column, p.seed) in rows],
        metrics,
        summary=lambda p: {"final_test_acc": 0.5, "epochs": len(rows[(p.row, p.column, p.seed)])},
    )
    running = RunDir(root / "runs" / ids[("Co-teaching", "Digits/40%", 1)])
    running.path.mkdir(parents=True)
    running.write_config(next(p.config for p in runs if p.run_id == running.run_id))
    running.write_status("running", epoch=1)
    return ids


def choose(root: Path, where: dict | None = None):
    return figure_noise.choose(figures.figure_runs(root, sweeps_dir=root.parent / "sweeps", where=where))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, dict[tuple, str], FigureRuns]:
    """(output root, {(row, column, seed): run id}, what the figure chooses from) of ROWS, its sweep expanded once."""
    root = tmp_path_factory.mktemp("noise_methods") / "out"
    ids = fabricate(root)
    return root, ids, figures.figure_runs(root, sweeps_dir=root.parent / "sweeps")


def assert_real_png(path: Path) -> None:
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 500 and pixels.shape[1] > 1000
    assert distinct_colours(pixels) > 50


def test_the_figure_picks_each_methods_row_in_the_column_with_most_seeds(sweep):
    _, ids, runs = sweep
    chosen = figure_noise.choose(runs)
    picked, common = chosen.data
    assert common == ("digits", "smallcnn", 0.4)
    assert chosen.runs == {
        "l2rw": [ids[("L2RW", "Digits/40%", 0)]],
        "coteaching": [ids[("Co-teaching", "Digits/40%", 0)]],  # not the running second seed
        "data_parameters": [ids[("Data Parameters", "Digits/40%", s)] for s in (0, 1)],  # two seeds beat one
        "instance_labels": [ids[("Ours (Instance labels)", "Digits/40%", 0)]],
        "mentornet": [ids[("MentorNet", "Digits/40%", 0)]],
    }  # no mwnet row in this sweep file


def test_curves_are_the_mean_and_std_over_seeds_and_tolerate_nan(sweep):
    picked, _ = figure_noise.choose(sweep[2]).data
    epochs, mean, std = picked["data_parameters"].curve("temperature_mean_noisy")
    stack = np.array([DP[0], DP[1]])
    assert list(epochs) == [1, 2, 3]
    np.testing.assert_allclose(mean, stack.mean(axis=0))
    np.testing.assert_allclose(std, stack.std(axis=0, ddof=1))
    epochs, mean, std = picked["l2rw"].curve("weight_share_noisy")
    assert math.isnan(mean[0]) and list(mean[1:]) == [0.15, 0.12] and not np.isnan(std).any()
    assert picked["l2rw"].curve("no_such_key") is None
    assert list(picked["mentornet"].curve("weight_mean_noisy")[1]) == [0.9, 0.4, 0.1]  # in the reweighting panel


@pytest.mark.slow
def test_the_png_renders_with_a_note_for_methods_without_runs(sweep, tmp_path):
    _, ids, runs = sweep
    logged: list[str] = []
    (tmp_path / "f.png").write_bytes(figure_noise.draw(figure_noise.choose(runs), logged.append))
    assert_real_png(tmp_path / "f.png")
    assert [m for m in logged if "draws" not in m] == [
        "figure_noise_methods: no finished mwnet runs with label noise; its panel says so."
    ]
    # and it says which runs each method's curves come from
    assert sorted(m.split(":")[0] for m in logged if "draws" in m) == [
        f"figure_noise_methods draws {m}"
        for m in ("coteaching", "data_parameters", "instance_labels", "l2rw", "mentornet")
    ]
    pair = ", ".join(ids[("Data Parameters", "Digits/40%", s)] for s in (0, 1))
    assert any(pair in m for m in logged)


@pytest.mark.slow
def test_only_one_method_or_none(tmp_path):
    one = {("Co-teaching", "Digits/40%", 0): [{"selected_noisy_share": 0.3}]}
    fabricate(tmp_path / "one" / "out", one)
    written = figures.make_figures(
        tmp_path / "one" / "out",
        out_dir=tmp_path / "figs",
        sweeps_dir=tmp_path / "one" / "sweeps",
        only=["noise_methods"],
    )
    assert_real_png(written[figure_noise.NAME])
    fabricate(tmp_path / "none" / "out", {("Baseline", "Digits/40%", 0): [{}]})
    with pytest.raises(figures.Skip, match="no finished runs of"):
        choose(tmp_path / "none" / "out")


@pytest.mark.slow
def test_registered_in_figures_it_renders_with_repro_figures(sweep, tmp_path, capsys):
    assert figures.FIGURES[figure_noise.NAME].choose is figure_noise.choose
    root = sweep[0]
    written = figures.make_figures(
        root, out_dir=tmp_path / "figs", sweeps_dir=root.parent / "sweeps", only=["noise_methods"]
    )
    assert written[figure_noise.NAME] == tmp_path / "figs" / "figure_noise_methods.png"
    assert_real_png(written[figure_noise.NAME])
    assert "Figure_noise_methods -> " in capsys.readouterr().out


def test_where_moves_every_method_and_a_where_matching_none_is_refused(sweep):
    _, ids, runs = sweep
    chosen = figure_noise.choose(FigureRuns(runs.frame, runs.plans, {"noise.fraction": "0.2"}))
    assert chosen.data[1] == ("digits", "smallcnn", 0.2)
    assert chosen.runs == {"data_parameters": [ids[("Data Parameters", "Digits/20%", 0)]]}  # the others: notes
    with pytest.raises(figures.SelectionError, match="no finished l2rw runs with label noise matches") as info:
        figure_noise.choose(FigureRuns(runs.frame, runs.plans, {"noise.fraction": "0.6"}))
    assert "Digits/40%" in str(info.value)  # the candidates are listed
