"""Figures 2-4 (analysis/figures/labels.py, `repro figures`) from a real small sweep: tiny trainings on the embedded
digits of the cells the figures draw (Table 1's class-label fold-0 runs x 2 seeds, its instance-label fold-0 run and
its baseline, Table 6's noisy instance labels x 2 seeds), planned by sweep files in the layout of sweeps/demo/.

The noisy runs use a large label learning rate and a low initial target probability so that labels are corrected
within three epochs (with the defaults, digits labels move by ~0.001 in that time and nothing is corrected)."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from analysis.figures import labels as figure_labels
from analysis.figures.common import pick_group
from analysis.figures.make import FIGURES, figure_runs
from analysis.figures.noise_correction import FIGURE4
from figure_sweeps import planned, train_planned, write_sweep
from png_pixels import distinct_colours
from repro.cli import main
from repro.figures import figure2 as figure2_panels
from repro.figures import figure4 as figure4_panels
from repro.figures.common import run_data
from repro.labels.registry import Panel
from repro.labels.trajectory import instance_labels_at, read_class_trajectory

COMMON = "common: [data=digits, model=smallcnn, data.subset=600, data.test_subset=200]"
TABLE1 = f"""
    {COMMON}
    columns:
      Digits/SmallCNN: [split=full]
    rows:
      Baseline: [method=baseline, optim.epochs=1]
      Ours (Class): {{overrides: [optim.epochs=2], learn: [method=class_labels]}}
      Ours (Instance): {{overrides: [optim.epochs=2], learn: [method=instance_labels, method.label_lr=20000]}}
"""
TABLE6 = f"""
    {COMMON}
    columns:
      Digits/40%: [split=noisy, noise=uniform, noise.fraction=0.4]
    rows:
      Ours (Instance labels): [method=instance_labels, optim.epochs=2, method.init_target_prob=0.3,
                               method.label_lr=20000]
"""
TRAINED = {  # (table, row) -> the seeds trained, of the runs the figures draw (Table 1's learned rows: fold 0)
    (1, "Baseline"): (0,),
    (1, "Ours (Class)"): (0, 1),
    (1, "Ours (Instance)"): (0,),
    (6, "Ours (Instance labels)"): (0, 1),
}
KIND = {
    "Baseline": "baseline",
    "Ours (Class)": "class",
    "Ours (Instance)": "instance",
    "Ours (Instance labels)": "noisy",
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> dict[str, list[Path]]:
    """{kind: run directories} of the small sweep, all under one output_root; "root": [it]; "sweeps": [its sweep
    files' directory]."""
    here = tmp_path_factory.mktemp("figure_runs")
    root = here / "out"
    made: dict[str, list[Path]] = {"root": [root], "sweeps": [here / "sweeps"]}
    for table, body in ((1, TABLE1), (6, TABLE6)):
        runs = planned(write_sweep(here / "sweeps", table, body, seeds=(0, 1)), root)

        def wanted(p, table=table) -> bool:
            return p.seed in TRAINED.get((table, p.row), ()) and p.stage in ("single", "fold") and not p.fold

        for rd in train_planned(runs, wanted):
            row = next(p.row for p in runs if p.run_id == rd.run_id)
            made.setdefault(KIND[row], []).append(rd.path)
    return made


def figures(sweep, root: Path, *args: str) -> int:
    return main(["figures", "--runs", str(root), "--sweeps-dir", str(sweep["sweeps"][0]), *args])


def copy_runs(dirs: list[Path], root: Path) -> Path:
    for d in dirs:
        shutil.copytree(d, root / "runs" / d.name)
    return root


def assert_real_png(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 5_000
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert float(pixels[..., :3].var()) > 0.0
    assert distinct_colours(pixels) > 50  # lines, text, images: not a flat canvas


@pytest.mark.slow
@pytest.mark.e2e  # its module fixture trains a small sweep, which the next two tests read
def test_all_figures_render_from_a_real_small_sweep(sweep, tmp_path, capsys):
    out = tmp_path / "figs"
    assert figures(sweep, sweep["root"][0], "--out", str(out)) == 0
    printed = capsys.readouterr().out
    # the distillation-targets figure needs a replay run (tests/analysis/figures/test_figure_targets.py); the sweep has
    # no tables 12 (figure_smoothing_noise, figure_memorisation: tests/sweeps/test_noisy_comparisons.py,
    # tests/analysis/figures/test_figure_memorisation.py), 16 (teacher smoothing) or 14/15 (annotators:
    # tests/data/test_annotators.py)
    assert [line for line in printed.splitlines() if "skipped" in line] == [
        line
        for line in printed.splitlines()
        if line.startswith("Figure_targets skipped: no finished replay runs")
        or line.startswith(("Figure_smoothing_noise skipped: no sweep file of table 12", "Figure_memorisation"))
        or line.startswith("Figure_teacher_smoothing skipped: no sweep file of table 16")
        or line.startswith("Figure_annotator_")
        and "several annotators per image" in line
    ]
    for name in ("figure2", "figure3", "figure4", "figure_noise_methods"):
        assert_real_png(out / f"{name}.png")
    assert sorted(p.name for p in out.iterdir()) == [
        "figure2.png",
        "figure3.png",
        "figure4.png",
        "figure_noise_methods.png",
    ]


@pytest.mark.slow
@pytest.mark.e2e  # reads the module's trained sweep
def test_figure_data_come_from_the_runs_records(sweep):
    runs = figure_runs(sweep["root"][0], sweeps_dir=sweep["sweeps"][0])
    cells = figure_labels.FIGURE2
    # Figure 2 left/middle: the class-label runs' mean trajectory of the lowest, median and highest class
    group = pick_group(runs, "class", cells["class labels"], panel=Panel.CLASS_CURVES, noisy=False)
    assert sorted(rd.path for rd in group.runs) == sorted(sweep["class"])
    panels = figure2_panels.class_panels(group)
    trajs = np.stack([read_class_trajectory(d) for d in sweep["class"]]).astype(np.float64)
    means = trajs.mean(axis=(0, 1))
    assert panels.classes[0] == int(means.argmin()) and panels.classes[2] == int(means.argmax())
    np.testing.assert_allclose(panels.target_prob_mean, trajs[:, :, panels.classes].mean(axis=0))
    np.testing.assert_allclose(panels.target_prob_std, trajs[:, :, panels.classes].std(axis=0, ddof=1))
    assert panels.names == [str(c) for c in panels.classes]  # digits' class names are "0".."9"
    assert list(panels.epochs) == [1, 2] and panels.n_seeds == 2

    # Figure 2 right: the clean instance-label run's samples with the least mass on their target, top classes
    clean = pick_group(runs, "instance", cells["instance labels"], panel=Panel.INSTANCE_EXAMPLES, noisy=False)
    assert [rd.path for rd in clean.runs] == sweep["instance"]
    items, _ = figure2_panels.instance_examples(clean)
    index, labels = instance_labels_at(clean.runs[0], 2)
    row_of = {int(g): i for i, g in enumerate(index)}
    targets = run_data(clean.config).train_targets.numpy()
    assert len(items) == 3
    lowest = np.sort(labels[np.arange(len(index)), targets[index]])[:3]
    assert [ex.target_prob for ex in items] == pytest.approx(list(lowest), abs=1e-6)
    for ex in items:
        row = labels[row_of[ex.index]]
        assert ex.target == targets[ex.index] and ex.target not in ex.others
        others = np.where(np.arange(10) == ex.target, -1, row)
        assert ex.others == [int(c) for c in np.argsort(-others, kind="stable")[:3]]
        assert ex.other_probs == pytest.approx([row[c] for c in ex.others])

    # Figure 3: corrected noisy samples really have the true class on top at the last epoch
    noisy = pick_group(runs, "figure3", FIGURE4["runs"], panel=Panel.NOISE_CORRECTION, noisy=True)
    assert sorted(rd.path for rd in noisy.runs) == sorted(sweep["noisy"])
    examples, names, n_noisy = figure_labels.corrected_examples(noisy)
    assert examples and n_noisy > 0
    index, labels = instance_labels_at(noisy.runs[0], 2)
    row_of = {int(g): i for i, g in enumerate(index)}
    for ex in examples:
        assert ex.given != ex.true
        row = labels[row_of[ex.index]]
        assert int(row.argmax()) == ex.true
        assert ex.end == pytest.approx((row[ex.given], row[ex.true]))
        assert ex.start == pytest.approx((0.3, 0.7 / 9))
        assert ex.image is not None and ex.image.shape == (8, 8)

    # Figure 4: the noise-correction rates each run logged, one row per seed
    curve = figure4_panels.noise_correction_curve(noisy)
    logged = [[r["noisy_top5_corrected"] for r in rd.read_metrics()] for rd in noisy.runs]
    np.testing.assert_allclose(curve.top5, np.array(logged))
    assert curve.top1.shape == (2, 2) and (curve.top1 <= curve.top5).all()
    # ... and label accuracy over ALL training samples (the paper's Figure 4), from the labels and the true classes
    for s, rd in enumerate(noisy.runs):
        true = run_data(rd.read_config()).train_true_targets.numpy()
        for e in (1, 2):
            index, labels = instance_labels_at(rd, e)
            top5 = np.argsort(-labels, axis=1, kind="stable")[:, :5]
            assert curve.all_top1[s, e - 1] == pytest.approx((labels.argmax(axis=1) == true[index]).mean(), abs=0.01)
            assert curve.all_top5[s, e - 1] == pytest.approx(
                (top5 == true[index][:, None]).any(axis=1).mean(), abs=0.01
            )
    data0 = run_data(noisy.runs[0].read_config())
    index0, _ = instance_labels_at(noisy.runs[0], 1)
    assert curve.given_acc == pytest.approx(
        (data0.train_targets.numpy()[index0] == data0.train_true_targets.numpy()[index0]).mean()
    )
    assert (curve.all_top1 > curve.top1).all()  # clean samples keep their (true) class on top


@pytest.mark.slow
@pytest.mark.e2e  # reads the module's trained sweep
def test_figures_without_suitable_runs_are_skipped_with_a_reason(sweep, tmp_path, capsys):
    only_class = copy_runs(sweep["class"] + sweep["baseline"], tmp_path / "class_only")
    out = tmp_path / "figs"
    assert figures(sweep, only_class, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Figure2 -> " in printed
    assert "Figure2: the instance-label panel(s) are empty: no finished instance-label runs" in printed
    assert "Figure3 skipped: no finished instance-label runs with label noise" in printed
    assert "Figure4 skipped: no finished instance-label runs with label noise" in printed
    assert sorted(p.name for p in out.iterdir()) == ["figure2.png"]
    assert_real_png(out / "figure2.png")

    only_baseline = copy_runs(sweep["baseline"], tmp_path / "baseline_only")
    assert figures(sweep, only_baseline, "--out", str(tmp_path / "none")) == 0
    printed = capsys.readouterr().out
    # every figure (2-4, noise methods, targets, smoothing under noise, memorisation, teacher smoothing, the two
    # annotator figures) says why it is skipped
    assert printed.count("skipped") == len(FIGURES) == 10 and not (tmp_path / "none").exists()


def test_figures_from_an_empty_runs_directory_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    assert main(["figures", "--runs", str(tmp_path), "--out", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert "No runs found" in err and "no figures were written" in err
    assert not (tmp_path / "figs").exists()


def test_figure2_keeps_long_class_names_clear_of_the_sample_images(monkeypatch):
    """CIFAR-100's class names run to 13 characters ("aquarium_fish"): the bars' names must not cover the images."""
    shown = {}

    def keep(fig) -> bytes:
        shown["fig"] = fig
        return b""

    monkeypatch.setattr(figure2_panels, "png_bytes", keep)  # Figure 2's panels are drawn in the core (repro/figures/)
    names = [f"fine_class_{i:02d}" for i in range(100)]
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    examples = [figure2_panels.InstanceExample(i, image, 0, 0.5, [1, 2, 3], [0.2, 0.1, 0.05]) for i in range(3)]
    figure2_panels.render_figure2(None, (examples, names), {}, {})
    fig = shown["fig"]
    renderer = fig.canvas.get_renderer()
    images = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if ax.patches]
    assert len(images) == len(bars) == 3
    for ax_img, ax_bar in zip(images, bars):
        image_right = ax_img.get_window_extent(renderer).x1
        labels_left = min(t.get_window_extent(renderer).x0 for t in ax_bar.get_yticklabels())
        assert labels_left > image_right, (
            f"class names start at x={labels_left:.0f}, the image ends at {image_right:.0f}"
        )
