"""The label-noise methods' figure (analysis/figures/noise_methods.py) from fabricated run directories: which runs it
picks, the curves it draws (mean and std over seeds), notes for methods without runs, NaN-tolerance, and the hook
into `repro figures` (analysis.figures.make.FIGURES)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from analysis.collect import collect_runs
from analysis.figures import make as figures
from analysis.figures import noise_methods as figure_noise
from repro.errors import UserError
from repro.runs.rundir import RunDir


def config(method: str, *, seed: int = 0, noise: float = 0.4, epochs: int = 3, data: str = "digits") -> dict:
    return {
        "data": {"name": data, "root": None, "subset": 600, "num_classes": 10, "batch_size": 64},
        "model": {"name": "smallcnn"},
        "method": {"name": method},
        "noise": {"kind": "uniform" if noise else "none", "fraction": noise, "seed": 0},
        "split": {"fold": 0, "folds": 1, "meta_fraction": 0.02, "full_train": False},
        "optim": {"lr": 0.05, "epochs": epochs},
        "seed": seed,
        "output_root": "outputs",
        "tracker": {"kind": "none"},
        "sweep": {"name": None, "stage": None},
    }


def write_run(root: Path, run_id: str, cfg: dict, rows: list[dict], *, done: bool = True) -> RunDir:
    rd = RunDir(root / "runs" / run_id)
    rd.path.mkdir(parents=True)
    rd.write_config(cfg)
    rd.write_status("done" if done else "running", epoch=len(rows))
    rd.write_metrics([{"epoch": e + 1, "test_acc": 0.5, **row} for e, row in enumerate(rows)])
    if done:
        rd.write_summary({"final_test_acc": 0.5, "epochs": len(rows)})
    return rd


DP = {0: [1.01, 1.05, 1.10], 1: [1.03, 1.07, 1.20]}  # temperature_mean_noisy per seed


def fabricate(root: Path) -> Path:
    for seed, noisy in DP.items():
        write_run(
            root,
            f"digits-smallcnn-data_parameters-s{seed}",
            config("data_parameters", seed=seed),
            [{"temperature_mean_noisy": n, "temperature_mean_clean": 1 - (n - 1)} for n in noisy],
        )
    # another setting with one seed: the common setting (3 methods at 40% noise) wins over it
    write_run(
        root,
        "digits-smallcnn-data_parameters-other",
        config("data_parameters", noise=0.2, epochs=9),
        [{"temperature_mean_noisy": 5.0, "temperature_mean_clean": 5.0}] * 3,
    )
    write_run(
        root,
        "digits-smallcnn-l2rw-a",
        config("l2rw"),
        [
            {"weight_mean_noisy": math.nan, "weight_mean_clean": 1.2, "weight_share_noisy": math.nan},
            {"weight_mean_noisy": 0.4, "weight_mean_clean": 1.3, "weight_share_noisy": 0.15},
            {"weight_mean_noisy": 0.3, "weight_mean_clean": 1.4, "weight_share_noisy": 0.12},
        ],
    )
    write_run(
        root,
        "digits-smallcnn-coteaching-a",
        config("coteaching"),
        [{"selected_noisy_share": s, "selected_fraction": 0.8} for s in (0.35, 0.3, 0.2)],
    )
    write_run(
        root,
        "digits-smallcnn-coteaching-unfinished",
        config("coteaching", seed=5),
        [{"selected_noisy_share": 0.9}],
        done=False,
    )
    write_run(
        root,
        "digits-smallcnn-instance_labels-a",
        config("instance_labels"),
        [{"noisy_top1_corrected": c} for c in (0.3, 0.5, 0.6)],
    )
    write_run(
        root,
        "digits-smallcnn-instance_labels-clean",
        config("instance_labels", noise=0.0),
        [{"label_entropy": 0.5}] * 3,
    )
    write_run(root, "digits-smallcnn-baseline-a", config("baseline"), [{}] * 3)
    return root


def assert_real_png(path: Path) -> None:
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 500 and pixels.shape[1] > 1000
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def test_the_figure_picks_finished_noisy_runs_of_the_common_setting(tmp_path):
    picked, common = figure_noise.pick_runs(collect_runs(fabricate(tmp_path)))
    assert common == ("digits", "smallcnn", 0.4)
    assert set(picked) == {"data_parameters", "l2rw", "coteaching", "instance_labels"}  # no mwnet runs
    assert [rd.run_id for rd in picked["data_parameters"].runs] == [
        f"digits-smallcnn-data_parameters-s{s}" for s in (0, 1)
    ]
    assert [rd.run_id for rd in picked["coteaching"].runs] == ["digits-smallcnn-coteaching-a"]  # not the running one
    assert [rd.run_id for rd in picked["instance_labels"].runs] == ["digits-smallcnn-instance_labels-a"]


def test_curves_are_the_mean_and_std_over_seeds_and_tolerate_nan(tmp_path):
    picked, _ = figure_noise.pick_runs(collect_runs(fabricate(tmp_path)))
    epochs, mean, std = picked["data_parameters"].curve("temperature_mean_noisy")
    stack = np.array([DP[0], DP[1]])
    assert list(epochs) == [1, 2, 3]
    np.testing.assert_allclose(mean, stack.mean(axis=0))
    np.testing.assert_allclose(std, stack.std(axis=0, ddof=1))
    epochs, mean, std = picked["l2rw"].curve("weight_share_noisy")
    assert math.isnan(mean[0]) and list(mean[1:]) == [0.15, 0.12] and not np.isnan(std).any()
    assert picked["l2rw"].curve("no_such_key") is None


def test_the_png_renders_with_a_note_for_methods_without_runs(tmp_path):
    logged: list[str] = []
    png = figure_noise.build_figure_noise_methods(collect_runs(fabricate(tmp_path)), logged.append)
    (tmp_path / "f.png").write_bytes(png)
    assert_real_png(tmp_path / "f.png")
    assert [m for m in logged if "draws" not in m] == [
        "figure_noise_methods: no finished mwnet runs with label noise; its panel says so."
    ]
    # and it says which runs each method's curves come from
    assert sorted(m.split(":")[0] for m in logged if "draws" in m) == [
        f"figure_noise_methods draws {m}" for m in ("coteaching", "data_parameters", "instance_labels", "l2rw")
    ]
    assert any("digits-smallcnn-data_parameters-s0, digits-smallcnn-data_parameters-s1" in m for m in logged)


def test_only_one_method_or_none(tmp_path):
    root = tmp_path / "one"
    write_run(root, "digits-smallcnn-coteaching-a", config("coteaching"), [{"selected_noisy_share": 0.3}])
    path = figure_noise.make_noise_figure(root, out_dir=tmp_path / "out", log=lambda m: None)
    assert path == tmp_path / "out" / "figure_noise_methods.png"
    assert_real_png(path)
    none = tmp_path / "none"
    write_run(none, "digits-smallcnn-baseline-a", config("baseline"), [{}])
    write_run(none, "digits-smallcnn-coteaching-clean", config("coteaching", noise=0.0), [{}])
    with pytest.raises(figures.Skip, match="no finished runs of"):
        figure_noise.make_noise_figure(none, out_dir=tmp_path / "out2")
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    with pytest.raises(UserError, match="No runs found"):
        figure_noise.make_noise_figure(tmp_path / "empty", out_dir=tmp_path / "out3")
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out3").exists()


def test_registered_in_figures_it_renders_with_repro_figures(tmp_path, capsys):
    assert figures.FIGURES[figure_noise.NAME].choose is figure_noise.choose
    written = figures.make_figures(fabricate(tmp_path), out_dir=tmp_path / "figs")
    assert written[figure_noise.NAME] == tmp_path / "figs" / "figure_noise_methods.png"
    assert_real_png(written[figure_noise.NAME])
    assert "Figure_noise_methods -> " in capsys.readouterr().out


def test_where_picks_another_setting_and_a_selection_matching_nothing_is_refused(tmp_path):
    frame = collect_runs(fabricate(tmp_path))
    picked, common = figure_noise.pick_runs(
        frame, {"data.name": "digits", "model.name": "smallcnn", "noise.fraction": "0.2"}
    )
    assert common == ("digits", "smallcnn", 0.2)
    assert {m: [rd.run_id for rd in g.runs] for m, g in picked.items()} == {
        "data_parameters": ["digits-smallcnn-data_parameters-other"]
    }
    with pytest.raises(figures.SelectionError, match="no finished label-noise method run matches --where") as info:
        figure_noise.pick_runs(frame, {"noise.fraction": "0.4"})  # the paper's CIFAR-100 / WRN-28-10 stay
    assert "data.name=digits" in str(info.value)  # the candidates are listed
