"""Figures draw the sweep cells they declare (analysis/figures/select.py, `repro figures --where`): on an output root
holding every fold run of a Table 1 with four (data, network) columns (fabricated run directories), Figure 2 draws
Table 1's learning runs on CIFAR-100 / ResNet18, fold 0, and never a run no cell plans, however many seeds it has;
--where moves it to another column (the paper's column holds for the keys it does not name), and a --where that
matches nothing or several cells is refused with one paragraph that lists the candidates (exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.figures import noise_methods
from analysis.figures.common import pick_group
from analysis.figures.labels import FIGURE2, FIGURE3
from analysis.figures.make import figure_runs
from analysis.figures.noise_correction import FIGURE4
from analysis.figures.where import SelectionError, matches, parse_where
from figure_sweeps import fabricate_done, planned, write_sweep
from paper_runs import expanded, expansions_reused
from repro.cli import main
from repro.errors import UserError
from repro.labels.registry import Panel
from repro.labels.trajectory import write_class_trajectory, write_instance_topk, write_manifest, write_train_index
from repro.runs.rundir import RunDir

EPOCHS_RECORDED = 3
TABLE1 = """
    common: [split=full]
    columns:
      CIFAR100/ResNet18: [data=cifar100, model=resnet18]
      CIFAR100/VGG16: [data=cifar100, model=vgg16]
      CIFAR10/ResNet18: [data=cifar10, model=resnet18]
      CIFAR10/VGG16: [data=cifar10, model=vgg16]
    rows:
      Ours (Class): {learn: [method=class_labels]}
      Ours (Instance): {learn: [method=instance_labels]}
"""


def label_records(rd: RunDir, p) -> None:
    """A learned-label run's records as Figures 2-4 read them: per-class validation accuracy, a label trajectory."""
    cfg = p.config
    classes = cfg["data"]["num_classes"]
    rng = np.random.default_rng(cfg["seed"] + 7 * (p.fold or 0))
    rd.write_metrics(
        [
            {"epoch": e, "test_acc": 0.5, "val_per_class_acc": rng.uniform(0, 1, classes).tolist()}
            for e in range(1, EPOCHS_RECORDED + 1)
        ]
    )
    if cfg["method"]["labels"] == "class":
        write_manifest(rd.labels_dir, kind="class", num_samples=40, num_classes=classes, topk=None)
        write_class_trajectory(rd.labels_dir, rng.uniform(0.5, 1.0, (EPOCHS_RECORDED, classes)))
    elif cfg["method"]["labels"] == "instance":
        write_manifest(rd.labels_dir, kind="instance", num_samples=40, num_classes=classes, topk=3)
        write_train_index(rd.labels_dir, np.arange(40))
        for e in range(1, EPOCHS_RECORDED + 1):
            write_instance_topk(rd.labels_dir, e, np.tile(np.arange(3), (40, 1)), np.tile([0.8, 0.15, 0.05], (40, 1)))


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Folds 0 and 1 of both learned rows, two seeds, in every column; beside them, runs no cell plans: three seeds of
    a CIFAR-100 / ResNet18 class-label run at another label learning rate."""
    here = tmp_path_factory.mktemp("select")
    out = here / "out"
    runs = expanded(write_sweep(here / "sweeps", 1, TABLE1, seeds=(0, 1)), out)  # once: ids() and the index read it
    fabricate_done(out, [p for p in runs if p.stage == "fold" and p.fold <= 1], label_records)
    stray = next(p for p in runs if p.row == "Ours (Class)" and p.column == "CIFAR100/ResNet18" and p.fold == 0)
    others = write_sweep(
        here / "others", 1, TABLE1.replace("class_labels]", "class_labels, method.label_lr=50]"), seeds=(0, 1, 2)
    )
    strays = [p for p in planned(others, out) if p.row == stray.row and p.column == stray.column and p.fold == 0]
    fabricate_done(out, strays, label_records)
    return out


def ids(root: Path, row: str, column: str, fold: int = 0) -> list[str]:
    runs = expanded(root.parent / "sweeps" / "table1.yaml", root)
    return sorted(p.run_id for p in runs if p.row == row and p.column == column and p.fold == fold)


def group_ids(root: Path, part: str, where: dict | None = None) -> list[str]:
    with expansions_reused(root):
        runs = figure_runs(root, sweeps_dir=root.parent / "sweeps", where=where)
    panel = Panel.CLASS_CURVES if part == "class labels" else Panel.INSTANCE_EXAMPLES
    return sorted(rd.run_id for rd in pick_group(runs, part, FIGURE2[part], panel=panel, noisy=False).runs)


def figures(root: Path, *args: str) -> int:
    with expansions_reused(root):  # Table 1 as the fixture expanded it
        return main(["figures", "--runs", str(root), "--sweeps-dir", str(root.parent / "sweeps"), *args])


@pytest.mark.slow
def test_figure2_draws_table1s_learning_runs_on_cifar100_resnet18(root, tmp_path, capsys):
    assert group_ids(root, "class labels") == ids(root, "Ours (Class)", "CIFAR100/ResNet18")
    assert group_ids(root, "instance labels") == ids(root, "Ours (Instance)", "CIFAR100/ResNet18")

    out = tmp_path / "figs"
    assert figures(root, "--out", str(out), "--figures", "2") == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["figure2.png"]  # --figures: only Figure 2
    drawn = {line.split(":")[0]: line for line in printed.splitlines() if line.startswith("Figure2 draws")}
    assert set(drawn) == {"Figure2 draws class labels", "Figure2 draws instance labels"}
    for part, row in (("class", "Ours (Class)"), ("instance", "Ours (Instance)")):
        line = drawn[f"Figure2 draws {part} labels"]
        assert "cifar100, resnet18" in line and "seeds 0, 1" in line
        assert f"table1.yaml's {row} (fold 0 runs): {row} / CIFAR100/ResNet18" in line
        assert all(i in line for i in ids(root, row, "CIFAR100/ResNet18"))


@pytest.mark.slow
def test_where_moves_a_figure_to_another_column(root, tmp_path, capsys):
    out = tmp_path / "figs"
    assert (
        figures(root, "--out", str(out), "--figures", "figure2", "--where", "data.name=cifar10", "model.name=vgg16")
        == 0
    )
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Figure2 draws class labels"))
    assert "cifar10, vgg16" in line and "--where data.name=cifar10 model.name=vgg16" in line
    assert all(i in line for i in ids(root, "Ours (Class)", "CIFAR10/VGG16"))
    # the paper's data holds where --where names no data key; split.fold frees the declared fold
    moved = group_ids(root, "class labels", {"split.fold": "1", "model.name": "vgg16"})
    assert moved == ids(root, "Ours (Class)", "CIFAR100/VGG16", fold=1)


def test_a_where_matching_nothing_or_several_cells_is_refused(root, tmp_path, capsys):
    out = tmp_path / "figs"
    assert figures(root, "--out", str(out), "--figures", "2", "--where", "model.name=alexnet") == 2
    err = capsys.readouterr().err
    assert "figure2/class: no finished class-label runs without label noise" in err and "alexnet" in err
    assert "CIFAR10/VGG16" in err and "CIFAR100/ResNet18" in err and "Traceback" not in err  # the candidates
    assert not out.exists()

    # lifting the paper's network leaves ResNet18 and VGG16 on CIFAR-100 with two seeds each: ambiguous
    assert figures(root, "--out", str(out), "--figures", "2", "--where", "model.name=*") == 2
    err = capsys.readouterr().err
    assert "matches 2 cells" in err and "CIFAR100/ResNet18" in err and "CIFAR100/VGG16" in err and "--where" in err
    with pytest.raises(SelectionError, match="no run in this output root has"):
        group_ids(root, "class labels", {"no.such.key": "1"})


def test_a_sweep_file_without_the_papers_columns_draws_its_own(tmp_path):
    """The digits demo: Table 1 on one digits column; its tuning runs draw only when --where asks for them."""
    body = """
        common: [data=digits, model=smallcnn, split=full]
        columns:
          Digits/SmallCNN: []
        rows:
          Ours (Class): {learn: [method=class_labels], tune: {grid: {method.label_lr: [0.3, 30]}, epochs: 2}}
    """
    out = tmp_path / "out"
    runs = planned(write_sweep(tmp_path / "sweeps", 1, body, seeds=(0, 1, 2)), out)
    fabricate_done(out, runs, label_records)
    figure = figure_runs(out, sweeps_dir=tmp_path / "sweeps")
    group = pick_group(figure, "figure2/class", FIGURE2["class labels"], panel=Panel.CLASS_CURVES, noisy=False)
    assert sorted(rd.run_id for rd in group.runs) == sorted(p.run_id for p in runs if p.stage == "fold" and p.fold == 0)
    assert "has none of the paper's columns (CIFAR100/ResNet18)" in group.how
    tuning = figure_runs(out, sweeps_dir=tmp_path / "sweeps", where={"sweep.stage": "tune", "method.label_lr": "30"})
    group = pick_group(tuning, "figure2/class", FIGURE2["class labels"], panel=Panel.CLASS_CURVES, noisy=False)
    assert [rd.read_config()["method"]["label_lr"] for rd in group.runs] == [30]


@pytest.mark.slow
def test_figures_3_and_4_draw_table6s_ours_on_cifar100_at_40_percent_noise(tmp_path):
    """Table 6's Ours on both data sets and noise levels, three seeds each, and another instance-label row beside it
    (without the curriculum): Figures 3-4 and the noise methods' figure draw Ours at CIFAR-100 / 40%; --where
    noise.fraction=0.6 moves them to CIFAR-100 at 60% (the paper's data holds)."""
    body = """
        common: [split=noisy, noise=uniform, model=wrn28_10]
        columns:
          CIFAR10/40%: [data=cifar10, noise.fraction=0.4]
          CIFAR10/60%: [data=cifar10, noise.fraction=0.6]
          CIFAR100/40%: [data=cifar100, noise.fraction=0.4]
          CIFAR100/60%: [data=cifar100, noise.fraction=0.6]
        rows:
          Ours (Instance labels): [method=instance_labels, method.curriculum=entropy]
          Ours (no curriculum): [method=instance_labels]
    """
    out = tmp_path / "out"
    runs = planned(write_sweep(tmp_path / "sweeps", 6, body, seeds=(0, 1, 2)), out)
    fabricate_done(out, runs, label_records)

    def cell(column: str) -> list[str]:
        return sorted(p.run_id for p in runs if p.row == "Ours (Instance labels)" and p.column == column)

    figure = figure_runs(out, sweeps_dir=tmp_path / "sweeps")
    for name, cells in (("figure3", FIGURE3), ("figure4", FIGURE4)):
        group = pick_group(figure, name, cells["runs"], panel=Panel.NOISE_CORRECTION, noisy=True)
        assert sorted(rd.run_id for rd in group.runs) == cell("CIFAR100/40%")
    assert sorted(noise_methods.choose(figure).runs["instance_labels"]) == cell("CIFAR100/40%")
    moved = figure_runs(out, sweeps_dir=tmp_path / "sweeps", where={"noise.fraction": "0.6"})
    group = pick_group(moved, "figure4", FIGURE4["runs"], panel=Panel.NOISE_CORRECTION, noisy=True)
    assert sorted(rd.run_id for rd in group.runs) == cell("CIFAR100/60%")


def test_where_words_and_values():
    assert parse_where(["data.name=cifar10", "noise.fraction=0.4", "data.name=cifar100"]) == {
        "data.name": "cifar100",
        "noise.fraction": "0.4",
    }
    with pytest.raises(UserError, match="key=value"):
        parse_where(["cifar10"])
    assert matches(0.4, "0.40") and matches(0, "0") and not matches(0.2, "0.4") and matches("CIFAR100", "cifar100")
    assert matches(True, "true") and matches(None, "null") and matches("anything", "*") and not matches(1, "x")
