"""cleanlab on out-of-sample probabilities (repro/labels/out_of_sample.py): K cross-validation fold runs, each scoring
the fold it never trained on; the sweep plans them (`out_of_sample: {folds: K}`), the annotator analysis reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from presets import QUIET
from repro.config import load_config
from repro.config_tree import to_container
from repro.data.splits import make_split
from repro.errors import UserError
from repro.labels import out_of_sample as oos
from repro.labels.annotator_agreement import FILE, out_of_sample_cleanlab
from repro.labels.fold_runs import cross_validation_configs
from repro.runs.rundir import run_id
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep
from repro.train import train

FOLDS = 4
BASE = [
    "data=digits",
    "data.subset=600",
    "data.test_subset=60",
    "model=smallcnn",
    "optim.epochs=20",
    *QUIET,
    "noise=annotators",
    "noise.type=worse",
    "split=noisy",
    "split.meta_fraction=0.05",
    "method=baseline",
]


def test_fold_runs_partition_the_data_and_never_train_on_their_held_out_fold():
    config = to_container(load_config(BASE + ["output_root=o"]))
    targets = torch.arange(10).repeat(60)
    held = []
    for fold, cfg in enumerate(cross_validation_configs(config, FOLDS)):
        assert oos.is_partition_fold(cfg["split"]) and cfg["split"]["fold"] == fold
        assert {k: v for k, v in cfg.items() if k != "split"} == {k: v for k, v in config.items() if k != "split"}
        split = cfg["split"]
        train_idx, meta_idx = make_split(
            targets, meta_fraction=split["meta_fraction"], folds=split["folds"], fold=fold, seed=split["seed"]
        )
        assert not set(train_idx.tolist()) & set(meta_idx.tolist())
        held += meta_idx.tolist()
    assert sorted(held) == list(range(len(targets)))  # every sample held out by exactly one fold
    assert not oos.is_partition_fold(config["split"])  # the run itself (2% meta set) is no fold


def test_sweep_plans_the_fold_runs_the_analysis_derives(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: t\nmetric: final_test_acc\nseeds: [0]\n"
        "common: [data=digits, model=tinycnn, noise=annotators, noise.type=worse, split=noisy]\n"
        "columns: {D: [], E: [noise.type=aggre]}\n"
        f"rows:\n  One-hot: {{overrides: [method=baseline], out_of_sample: {{folds: {FOLDS}, columns: [D]}}}}\n"
    )
    runs = expand_sweep(load_sweep(path), output_root=tmp_path)
    single = [r for r in runs if r.stage == "single" and r.column == "D"]
    folds = [r for r in runs if r.stage == "fold"]
    assert {r.column for r in folds} == {"D"} and [r.fold for r in folds] == list(range(FOLDS))
    derived = cross_validation_configs(single[0].config, FOLDS)
    assert [r.run_id for r in folds] == [run_id(c) for c in derived]
    path.write_text(path.read_text().replace(f"folds: {FOLDS}", "folds: 1"))
    refused = r"out_of_sample\.folds=1 \(int\) is not allowed in the sweep file .*: it must be an integer >= 2"
    with pytest.raises(UserError, match=refused):
        load_sweep(path)


@pytest.mark.slow  # five 20-epoch runs
@pytest.mark.e2e
def test_out_of_sample_cleanlab_finds_the_mislabelled_images(tmp_path):
    run = train(load_config(BASE + [f"output_root={tmp_path}"]))
    assert out_of_sample_cleanlab(run.run_dir.path) is None  # no fold runs yet: nothing to compute
    config = to_container(load_config(BASE + [f"output_root={tmp_path}"]))
    fold_runs = []
    for cfg in cross_validation_configs(config, FOLDS):
        split = cfg["split"]
        overrides = [f"split.{k}={str(split[k]).lower()}" for k in ("meta_fraction", "folds", "fold", "full_train")]
        fold_runs.append(train(load_config(BASE + overrides + [f"output_root={tmp_path}"])))
    with np.load(run.run_dir.path / FILE) as f:
        index, given, clean = f["index"], f["given"], f["clean"]
    probs, fold_of = oos.out_of_sample_probs(run.run_dir.path, index, FOLDS)
    for k, fold_run in enumerate(fold_runs):  # a sample's probabilities come from a network that never saw it
        with np.load(Path(fold_run.run_dir.path) / oos.FILE) as f:
            rows, held = f["rows"], f["probs"]
        mine = index[fold_of == k]
        assert set(mine.tolist()) <= set(rows.tolist())
        with np.load(Path(fold_run.run_dir.path) / FILE) as f:  # the fold run's training part
            trained_on = set(f["index"].tolist())
        assert mine.size and not set(mine.tolist()) & trained_on
        position = {r: i for i, r in enumerate(rows.tolist())}
        assert np.array_equal(probs[fold_of == k], held[[position[r] for r in mine.tolist()]])
    found = out_of_sample_cleanlab(run.run_dir.path)
    assert found is not None and found["folds"] == FOLDS
    mislabelled = given != clean
    assert mislabelled.any() and found["auroc"] > 0.6  # clearly better than chance (0.5)
    assert found["auroc"] > run.summary["annot_auroc_cleanlab"]  # and than cleanlab on the memorising softmax

    from analysis.collect import collect_runs
    from analysis.tables.annotators import write_annotator_table

    md = write_annotator_table(collect_runs(tmp_path), tmp_path / "tables", log=lambda _: None).read_text()
    oos_row = [line for line in md.splitlines() if "out-of-sample (K-fold" in line]
    assert len(oos_row) == 1 and f"{found['auroc']:.3f} (n=1)" in oos_row[0]  # the fold runs are not averaged in
