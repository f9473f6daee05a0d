"""Figures draw the paper's runs (analysis/figures/select.py, `repro figures --where`): on an output root holding
learned-label runs of two models and two data sets (fabricated run directories, as the other figure tests make
them), Figure 2 draws ResNet18 on CIFAR-100 by default even where the old rule (most seeds, then most epochs) would
draw VGG16 on CIFAR-10, draws what --where asks for, says which runs it drew, and refuses a selection that matches
nothing or several configurations with one paragraph that lists the candidates (exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.collect import collect_runs
from analysis.figures import noise_methods as figure_noise
from analysis.figures.common import pick_group
from analysis.figures.select import SelectionError, matches, parse_where
from repro.cli import main
from repro.errors import UserError
from repro.labels.registry import Panel
from repro.labels.trajectory import write_class_trajectory, write_instance_topk, write_manifest, write_train_index
from repro.runs.rundir import RunDir, run_id

EPOCHS_RECORDED = 3
SETTINGS = [
    ("cifar100", "resnet18", 165),
    ("cifar100", "vgg16", 300),
    ("cifar10", "resnet18", 165),
    ("cifar10", "vgg16", 300),
]


def config(data: str, model: str, epochs: int, labels: str, *, seed: int, fold: int = 0, **method) -> dict:
    classes = 100 if data == "cifar100" else 10
    return {
        "data": {"name": data, "root": "/nowhere", "subset": None, "num_classes": classes, "batch_size": 128},
        "model": {"name": model},
        "method": {"name": f"{labels}_labels", "labels": labels, "init_target_prob": 0.9, **method},
        "noise": {"kind": "none", "fraction": 0.0, "seed": 0},
        "split": {"meta_fraction": 0.2, "folds": 5, "fold": fold, "seed": 0, "full_train": False},
        "optim": {"lr": 0.1, "epochs": epochs},
        "seed": seed,
        "output_root": "outputs",
        "tracker": {"kind": "none"},
        "sweep": {"name": None, "stage": None},
    }


def write_run(root: Path, cfg: dict) -> RunDir:
    rd = RunDir(root / "runs" / run_id(cfg))
    rd.path.mkdir(parents=True)
    rd.write_config(cfg)
    classes = cfg["data"]["num_classes"]
    rng = np.random.default_rng(cfg["seed"] + 7 * cfg["split"]["fold"])
    rows = [
        {"epoch": e, "test_acc": 0.5, "val_per_class_acc": rng.uniform(0, 1, classes).tolist()}
        for e in range(1, EPOCHS_RECORDED + 1)
    ]
    rd.write_metrics(rows)
    if cfg["method"]["labels"] == "class":
        write_manifest(rd.labels_dir, kind="class", num_samples=40, num_classes=classes, topk=None)
        write_class_trajectory(rd.labels_dir, rng.uniform(0.5, 1.0, (EPOCHS_RECORDED, classes)))
    else:
        write_manifest(rd.labels_dir, kind="instance", num_samples=40, num_classes=classes, topk=3)
        write_train_index(rd.labels_dir, np.arange(40))
        for e in range(1, EPOCHS_RECORDED + 1):
            write_instance_topk(rd.labels_dir, e, np.tile(np.arange(3), (40, 1)), np.tile([0.8, 0.15, 0.05], (40, 1)))
    rd.write_status("done", epoch=EPOCHS_RECORDED)
    rd.write_summary({"final_test_acc": 0.5, "epochs": EPOCHS_RECORDED})
    return rd


@pytest.fixture
def root(tmp_path) -> Path:
    """Class- and instance-label fold runs (2 seeds, folds 0 and 1) of each (data, model); a one-seed tuning-grid
    run of CIFAR-100/ResNet18 with another label learning rate."""
    out = tmp_path / "out"
    for data, model, epochs in SETTINGS:
        for labels in ("class", "instance"):
            for seed in (0, 1):
                for fold in (0, 1):
                    write_run(out, config(data, model, epochs, labels, seed=seed, fold=fold, label_lr=50))
    write_run(out, config("cifar100", "resnet18", 165, "class", seed=0, label_lr=200))
    return out


def ids(data: str, model: str, labels: str) -> list[str]:
    return sorted(
        run_id(config(data, model, e, labels, seed=s, label_lr=50))
        for d, m, e in SETTINGS
        if (d, m) == (data, model)
        for s in (0, 1)
    )


def test_figure2_draws_the_papers_selection_by_default(root, tmp_path, capsys):
    frame = collect_runs(root)
    group = pick_group(frame, panel=Panel.CLASS_CURVES, noisy=False)
    assert sorted(rd.run_id for rd in group.runs) == ids("cifar100", "resnet18", "class")
    assert group.others == 1  # the one-seed tuning run matched too, and lost on seeds
    assert sorted(rd.run_id for rd in pick_group(frame, panel=Panel.INSTANCE_EXAMPLES, noisy=False).runs) == ids(
        "cifar100", "resnet18", "instance"
    )

    out = tmp_path / "figs"
    assert main(["figures", "--runs", str(root), "--out", str(out), "--figures", "2"]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["figure2.png"]  # --figures: only Figure 2
    drawn = {line.split(":")[0]: line for line in printed.splitlines() if line.startswith("Figure2 draws")}
    assert set(drawn) == {"Figure2 draws class labels", "Figure2 draws instance labels"}
    for part, labels in (("class", "class"), ("instance", "instance")):
        line = drawn[f"Figure2 draws {part} labels"]
        assert "cifar100, resnet18" in line and "the paper's selection" in line and "seeds 0, 1" in line
        assert all(i in line for i in ids("cifar100", "resnet18", labels))


def test_where_picks_another_configuration(root, tmp_path, capsys):
    out = tmp_path / "figs"
    assert (
        main(
            [
                "figures",
                "--runs",
                str(root),
                "--out",
                str(out),
                "--figures",
                "figure2",
                "--where",
                "data.name=cifar10",
                "model.name=vgg16",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if x.startswith("Figure2 draws class labels"))
    assert "cifar10, vgg16" in line and "--where data.name=cifar10 model.name=vgg16" in line
    assert all(i in line for i in ids("cifar10", "vgg16", "class"))
    group = pick_group(
        collect_runs(root), panel=Panel.CLASS_CURVES, noisy=False, where={"split.fold": "1", "model.name": "vgg16"}
    )
    assert {rd.read_config()["split"]["fold"] for rd in group.runs} == {1}
    assert {rd.read_config()["model"]["name"] for rd in group.runs} == {"vgg16"}
    assert {rd.read_config()["data"]["name"] for rd in group.runs} == {"cifar100"}  # the paper's data stays


def test_a_selection_matching_nothing_or_several_configurations_is_refused(root, tmp_path, capsys):
    out = tmp_path / "figs"
    assert (
        main(["figures", "--runs", str(root), "--out", str(out), "--figures", "2", "--where", "model.name=alexnet"])
        == 2
    )
    err = capsys.readouterr().err
    assert "figure2/class: no finished class-label runs" in err and "model.name=alexnet" in err
    assert "resnet18" in err and "vgg16" in err and "Traceback" not in err  # the candidates are listed
    assert "data.name=cifar10 model.name=vgg16" in err  # with the selection's keys, so the mismatch shows
    assert not out.exists()

    # lifting the paper's model leaves ResNet18 and VGG16 on CIFAR-100 with two seeds each: ambiguous
    assert main(["figures", "--runs", str(root), "--out", str(out), "--figures", "2", "--where", "model.name=*"]) == 2
    err = capsys.readouterr().err
    assert "matches 2 configurations" in err and "model.name=resnet18" in err and "model.name=vgg16" in err
    assert "--where" in err
    with pytest.raises(SelectionError, match="no run in this output root has"):
        pick_group(collect_runs(root), panel=Panel.CLASS_CURVES, noisy=False, where={"no.such.key": "1"})


def test_the_demo_without_the_papers_data_still_finds_its_one_configuration(tmp_path):
    out = tmp_path / "digits"
    for seed in (0, 1, 2):
        write_run(out, config("digits", "smallcnn", 12, "class", seed=seed, label_lr=3))
    write_run(out, config("digits", "smallcnn", 12, "class", seed=0, fold=1, label_lr=3))
    group = pick_group(collect_runs(out), panel=Panel.CLASS_CURVES, noisy=False)
    assert len(group.runs) == 3 and "without its data and model" in group.how
    assert {rd.read_config()["split"]["fold"] for rd in group.runs} == {0}


def test_one_seed_the_tables_fold_run_wins_over_tuning_grid_points(tmp_path):
    """As in `repro demo --quick` (one seed) with a tuning stage: the table's fold-0 run has four sibling folds; the
    grid points have none, and those marked sweep.stage=tune only draw when asked for."""
    out = tmp_path / "quick"
    for fold in range(5):
        write_run(out, config("digits", "smallcnn", 4, "class", seed=0, fold=fold, label_lr=3))
    for lr in (0.3, 30):
        cfg = config("digits", "smallcnn", 4, "class", seed=0, label_lr=lr)
        cfg["sweep"]["stage"] = "tune"
        write_run(out, cfg)
    write_run(out, config("digits", "smallcnn", 4, "class", seed=0, label_lr=300))  # a lone run, no stage
    frame = collect_runs(out)
    group = pick_group(frame, panel=Panel.CLASS_CURVES, noisy=False)
    assert [rd.run_id for rd in group.runs] == [run_id(config("digits", "smallcnn", 4, "class", seed=0, label_lr=3))]
    assert group.others == 1  # the lone run; the tuning runs were not candidates
    tuned = pick_group(
        frame,
        panel=Panel.CLASS_CURVES,
        noisy=False,
        where={"sweep.stage": "tune", "method.label_lr": "30", "data.name": "digits", "model.name": "*"},
    )
    assert [rd.read_config()["method"]["label_lr"] for rd in tuned.runs] == [30]


def test_figures_3_and_4_draw_cifar100_at_40_percent_noise(tmp_path):
    """Table 6's "Ours" on both data sets and noise levels, three seeds each; CIFAR-10 runs more epochs."""
    out = tmp_path / "noisy"
    for data, epochs in (("cifar10", 200), ("cifar100", 120)):
        for fraction in (0.4, 0.6):
            for seed in (0, 1, 2):
                cfg = config(data, "wrn28_10", epochs, "instance", seed=seed, curriculum="entropy")
                cfg["noise"] = {"kind": "uniform", "fraction": fraction, "seed": 0}
                write_run(out, cfg)
    frame = collect_runs(out)
    for name in ("figure3", "figure4"):
        group = pick_group(frame, panel=Panel.NOISE_CORRECTION, noisy=True, name=name)
        assert {(c["data"]["name"], c["noise"]["fraction"]) for c in map(RunDir.read_config, group.runs)} == {
            ("cifar100", 0.4)
        } and len(group.runs) == 3
    group = pick_group(frame, panel=Panel.NOISE_CORRECTION, noisy=True, name="figure4", where={"noise.fraction": "0.6"})
    assert {RunDir.read_config(rd)["noise"]["fraction"] for rd in group.runs} == {0.6}


def test_figures_3_and_4_draw_table6s_ours_beside_the_curriculum_ablation_and_table7(tmp_path):
    """One output root with Table 6's "Ours" (uniform noise, the curriculum's default readings), Table 10's three
    other readings and Table 7's "Ours" (exact-fraction noise) on CIFAR-100 at 40%, three seeds each."""
    out = tmp_path / "all"
    variants = {
        "table6": ("uniform", {}),
        "table7": ("exact_fraction", {}),
        "weight": ("uniform", {"curriculum_weight": "entropy"}),
        "placement": ("uniform", {"curriculum_placement": "both"}),
        "both": ("uniform", {"curriculum_weight": "entropy", "curriculum_placement": "both"}),
    }
    made = {}
    for name, (kind, extra) in variants.items():
        for seed in (0, 1, 2):
            cfg = config(
                "cifar100",
                "wrn28_10",
                120,
                "instance",
                seed=seed,
                curriculum="entropy",
                curriculum_weight="certainty",
                curriculum_placement="model_step",
            )
            cfg["method"].update(extra)
            cfg["noise"] = {"kind": kind, "fraction": 0.4, "seed": 0}
            made.setdefault(name, []).append(write_run(out, cfg).run_id)
    frame = collect_runs(out)
    for name in ("figure3", "figure4"):
        group = pick_group(frame, panel=Panel.NOISE_CORRECTION, noisy=True, name=name)
        assert sorted(rd.run_id for rd in group.runs) == sorted(made["table6"])
    picked, _ = figure_noise.pick_runs(frame)  # the label-noise methods' figure draws the same "Ours"
    assert sorted(rd.run_id for rd in picked["instance_labels"].runs) == sorted(made["table6"])
    group = pick_group(frame, panel=Panel.NOISE_CORRECTION, noisy=True, where={"noise.kind": "exact_fraction"})
    assert sorted(rd.run_id for rd in group.runs) == sorted(made["table7"])
    group = pick_group(
        frame,
        panel=Panel.NOISE_CORRECTION,
        noisy=True,
        where={"method.curriculum_weight": "entropy", "method.curriculum_placement": "both"},
    )
    assert sorted(rd.run_id for rd in group.runs) == sorted(made["both"])


def test_where_words_and_values():
    assert parse_where(["data.name=cifar10", "noise.fraction=0.4", "data.name=cifar100"]) == {
        "data.name": "cifar100",
        "noise.fraction": "0.4",
    }
    with pytest.raises(UserError, match="key=value"):
        parse_where(["cifar10"])
    assert matches(0.4, "0.40") and matches(0, "0") and not matches(0.2, "0.4") and matches("CIFAR100", "cifar100")
    assert matches(True, "true") and matches(None, "null") and matches("anything", "*") and not matches(1, "x")


def test_one_seed_each_the_longer_training_of_the_same_network_wins_but_two_networks_stay_ambiguous(tmp_path):
    """`repro demo --quick --extra`: Table 6's Ours (30 epochs) and the extra Table 12's (4), one seed each, same data
    and network: the table's own budget is drawn. Two networks tied on seeds are still the user's pick."""
    out = tmp_path / "extra"
    write_run(out, config("digits", "smallcnn", 30, "class", seed=0, label_lr=3))
    write_run(out, config("digits", "smallcnn", 4, "class", seed=0, label_lr=3))
    group = pick_group(collect_runs(out), panel=Panel.CLASS_CURVES, noisy=False)
    assert [rd.read_config()["optim"]["epochs"] for rd in group.runs] == [30] and group.others == 1
    write_run(out, config("digits", "vgg16", 40, "class", seed=0, label_lr=3))
    with pytest.raises(SelectionError, match="matches 3 configurations"):
        pick_group(collect_runs(out), panel=Panel.CLASS_CURVES, noisy=False)
