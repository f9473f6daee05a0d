"""A replay run's fold runs made by hand, for the tests of repro/labels/fold_runs.py, repro/labels/fold_average.py and
repro/labels/trajectory.py: three folds over six samples, each fold's instance labels known exactly at every epoch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from repro.config import load_config
from repro.labels.fold_runs import fold_run_configs
from repro.labels.trajectory import write_instance_topk, write_manifest, write_train_index
from repro.runs.rundir import RunDir

# Three folds over six samples: fold f holds out samples {2f, 2f+1}, so every sample is trained by two folds.
N, C, E, FOLDS = 6, 3, 2, 3
FOLD_TRAIN = [np.array([2, 3, 4, 5]), np.array([0, 1, 4, 5]), np.array([0, 1, 2, 3])]


def replay_cfg(tmp_path: Path, *extra: str):
    return load_config(
        [
            "method=replay",
            "split=full",
            f"split.folds={FOLDS}",
            "split.meta_fraction=0.3",
            f"optim.epochs={E}",
            "tracker=none",
            "progress=none",
            f"output_root={tmp_path}",
            *extra,
        ]
    )


def hand_labels(fold: int, epoch: int) -> np.ndarray:
    """Fold f's labels at epoch e (1-based) for its training samples: sample i puts 0.7 on class (i + f + e) % 3,
    0.2 on the next class and 0.1 on the last."""
    rows = []
    for i in FOLD_TRAIN[fold]:
        row = np.zeros(C, np.float32)
        top = (i + fold + epoch) % C
        row[top], row[(top + 1) % C], row[(top + 2) % C] = 0.7, 0.2, 0.1
        rows.append(row)
    return np.stack(rows)


def make_instance_fold_runs(
    cfg, *, skip: tuple[int, ...] = (), unfinished: tuple[int, ...] = (), per_epoch_files: bool = False
) -> list[RunDir]:
    """Finished instance-label fold runs with hand-made labels; `per_epoch_files`: in the layout of run directories
    written before the appended records (a file per epoch), which must still be read."""
    dirs = []
    for fold, config in enumerate(fold_run_configs(cfg)):
        rd = RunDir.for_config(config)
        dirs.append(rd)
        if fold in skip:
            continue
        rd.path.mkdir(parents=True)
        rd.write_config(config)
        labels_dir = rd.labels_dir
        write_manifest(labels_dir, kind="instance", num_samples=N, num_classes=C, topk=C)
        write_train_index(labels_dir, FOLD_TRAIN[fold])
        if per_epoch_files:
            (labels_dir / "topk").mkdir()
        for epoch in range(1, E + 1):
            labels = hand_labels(fold, epoch)
            order = np.argsort(-labels, axis=1)
            write_instance_topk(labels_dir, epoch, order, np.take_along_axis(labels, order, axis=1))
        if fold in unfinished:
            rd.write_status("running", epoch=1)
        else:
            rd.write_status("done", epoch=E)
            rd.write_summary({"final_test_acc": 0.5})
    return dirs


def fake_data(num_samples: int = N):
    return SimpleNamespace(train_targets=torch.arange(num_samples) % C, num_classes=C)
