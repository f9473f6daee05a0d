"""The fold-averaged trajectory (repro/labels/fold_average.py): averaging over the folds that trained each sample,
replay
of epoch e's labels at epoch e (or the last epoch's when static), the cache, clear errors for broken folds or caches,
`repro labels average | show`, and the 5-fold protocol end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fold_fixtures import FOLD_TRAIN, FOLDS, C, E, N, fake_data, hand_labels, make_instance_fold_runs, replay_cfg
from presets import QUIET
from repro.cli import main
from repro.config import load_config
from repro.errors import UserError
from repro.labels import build_labels
from repro.labels.epoch_records import topk_log
from repro.labels.fold_average import (
    average_class_trajectories,
    average_instance_labels,
    averaged_trajectory,
    replay_source,
    trajectory_cache_dir,
)
from repro.labels.fold_runs import fold_run_configs
from repro.labels.trajectory import write_class_trajectory, write_manifest
from repro.runs.rundir import RunDir
from repro.train import train

# ----------------------------------------------------------------------------------------------- pure functions


def test_fold_averaging_uses_only_the_folds_that_trained_each_sample():
    fold_a = (np.array([0, 1]), np.array([[1.0, 0.0], [0.5, 0.5]], np.float32))
    fold_b = (np.array([1, 2]), np.array([[0.0, 1.0], [0.2, 0.8]], np.float32))
    averaged = average_instance_labels([fold_a, fold_b], num_samples=3)
    np.testing.assert_allclose(averaged, [[1.0, 0.0], [0.25, 0.75], [0.2, 0.8]])


def test_fold_averaging_refuses_a_sample_no_fold_trained():
    with pytest.raises(UserError, match="trained by no fold"):
        average_instance_labels([(np.array([0]), np.array([[1.0, 0.0]], np.float32))], num_samples=2)


def test_class_trajectories_average_per_epoch_and_class():
    a = np.array([[0.9, 0.8], [0.7, 0.6]], np.float32)
    b = np.array([[0.7, 0.6], [0.5, 0.2]], np.float32)
    np.testing.assert_allclose(average_class_trajectories([a, b]), [[0.8, 0.7], [0.6, 0.4]], atol=1e-6)


# ------------------------------------------------------------------------------------------------------- replay


def test_replay_feeds_epoch_e_labels_at_epoch_e(tmp_path):
    cfg = replay_cfg(tmp_path)
    make_instance_fold_runs(cfg)
    labels = build_labels(
        "replay", num_samples=N, num_classes=C, targets=fake_data().train_targets, **replay_source(cfg, fake_data())
    )
    # sample 0 is trained by folds 1 and 2: at epoch 1 fold 1 puts 0.7 on class (0+1+1)%3 = 2, 0.2 on 0, 0.1 on 1;
    # fold 2 puts 0.7 on class 0, 0.2 on 1, 0.1 on 2 -> average [0.45, 0.15, 0.40].
    labels.set_epoch(0)
    np.testing.assert_allclose(labels.soft_labels(torch.tensor([0]), None).numpy(), [[0.45, 0.15, 0.40]], atol=2e-3)
    for epoch in range(E):
        labels.set_epoch(epoch)
        expected = average_instance_labels([(FOLD_TRAIN[f], hand_labels(f, epoch + 1)) for f in range(FOLDS)], N)
        got = labels.soft_labels(torch.arange(N), None).numpy()
        np.testing.assert_allclose(got, expected, atol=2e-3)  # float16 cache
    assert not np.allclose(
        labels.soft_labels(torch.arange(N), None).numpy(),
        average_instance_labels([(FOLD_TRAIN[f], hand_labels(f, 1)) for f in range(FOLDS)], N),
        atol=1e-2,
    )  # the epochs really differ


def test_static_replay_feeds_the_last_epoch_labels_throughout(tmp_path):
    cfg = replay_cfg(tmp_path, "method.static=true", "optim.epochs=5", f"method.learn.epochs={E}")
    make_instance_fold_runs(cfg)
    source = replay_source(cfg, fake_data())
    labels = build_labels("replay", num_samples=N, num_classes=C, targets=fake_data().train_targets, **source)
    last = average_instance_labels([(FOLD_TRAIN[f], hand_labels(f, E)) for f in range(FOLDS)], N)
    for epoch in (0, 4):
        labels.set_epoch(epoch)
        np.testing.assert_allclose(labels.soft_labels(torch.arange(N), None).numpy(), last, atol=2e-3)


@pytest.mark.slow
def test_dynamic_replay_needs_as_many_epochs_as_the_folds(tmp_path):
    cfg = replay_cfg(tmp_path, "optim.epochs=5", f"method.learn.epochs={E}")
    make_instance_fold_runs(cfg)
    with pytest.raises(UserError, match="as many epochs as they did"):
        replay_source(cfg, fake_data())


def test_class_label_replay_averages_the_per_class_trajectories(tmp_path):
    cfg = replay_cfg(tmp_path, "method.learn.method=class_labels")
    per_fold = [np.array([[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]], np.float32) + 0.03 * f for f in range(FOLDS)]
    for fold, config in enumerate(fold_run_configs(cfg)):
        rd = RunDir.for_config(config)
        rd.path.mkdir(parents=True)
        rd.write_config(config)
        write_manifest(rd.labels_dir, kind="class", num_samples=N, num_classes=C, topk=None)
        write_class_trajectory(rd.labels_dir, per_fold[fold])
        rd.write_summary({})
    data = fake_data()
    labels = build_labels(
        "replay", num_samples=N, num_classes=C, targets=data.train_targets, **replay_source(cfg, data)
    )
    labels.set_epoch(1)
    # epoch 2, class 1 (sample 1): target prob mean(0.5, 0.53, 0.56) = 0.53, the rest (1 - 0.53) / 2 each
    np.testing.assert_allclose(labels.soft_labels(torch.tensor([1]), None).numpy(), [[0.235, 0.53, 0.235]], atol=1e-5)


def test_the_averaged_trajectory_is_cached_and_reused(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg)
    first = averaged_trajectory(cfg)
    assert first.path == trajectory_cache_dir(tmp_path, [rd.run_id for rd in dirs])
    stamp = (first.path / "labels.npy").stat().st_mtime_ns
    second = averaged_trajectory(cfg)
    assert second.path == first.path and (second.path / "labels.npy").stat().st_mtime_ns == stamp


# ---------------------------------------------------------------------------------------------------- bad input


def test_a_truncated_topk_file_is_refused_and_nothing_is_written(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg)
    broken = dirs[1].labels_dir / "topk.npy"
    content = broken.read_bytes()[:-40]
    broken.write_bytes(content)
    with pytest.raises(UserError, match="truncated or corrupt"):
        replay_source(cfg, fake_data())
    assert broken.read_bytes() == content
    cache = trajectory_cache_dir(tmp_path, [rd.run_id for rd in dirs])
    assert not (cache / "manifest.json").exists() and not (cache / "labels.npy").exists()


def test_a_fold_with_fewer_recorded_epochs_is_refused(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg)
    topk_log(dirs[0].labels_dir, len(FOLD_TRAIN[0]), C).truncate(1)
    with pytest.raises(UserError, match="holds 1"):
        replay_source(cfg, fake_data())


def test_a_trajectory_of_another_data_set_size_is_refused(tmp_path):
    cfg = replay_cfg(tmp_path)
    make_instance_fold_runs(cfg)
    with pytest.raises(UserError, match="6 samples x 3 classes, but this run's data has 7 x 3"):
        replay_source(cfg, fake_data(7))


def test_a_corrupt_cached_trajectory_is_refused_not_overwritten(tmp_path):
    cfg = replay_cfg(tmp_path)
    make_instance_fold_runs(cfg)
    traj = averaged_trajectory(cfg)
    data_file = traj.path / "labels.npy"
    truncated = data_file.read_bytes()[:-10]
    data_file.write_bytes(truncated)
    with pytest.raises(UserError, match="Delete"):
        averaged_trajectory(cfg)
    assert data_file.read_bytes() == truncated


# ------------------------------------------------------------------------------------------------- command line


@pytest.mark.slow
def test_labels_average_and_show_commands(tmp_path, capsys):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg)
    overrides = [
        "method=replay",
        "split=full",
        f"split.folds={FOLDS}",
        "split.meta_fraction=0.3",
        f"optim.epochs={E}",
        f"output_root={tmp_path}",
    ]
    assert main(["labels", "average", *overrides]) == 0
    out = capsys.readouterr().out
    cache = trajectory_cache_dir(tmp_path, [rd.run_id for rd in dirs])
    assert str(cache) in out and "3 fold runs" in out
    assert main(["labels", "show", str(dirs[0].path)]) == 0
    assert "instance labels, 6 samples x 3 classes, 2 epoch(s) recorded" in capsys.readouterr().out
    assert main(["labels", "average", "method=instance_labels", f"output_root={tmp_path}"]) == 2
    assert "method=replay" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_five_fold_protocol_end_to_end_on_digits(tmp_path):
    """Five real fold runs (small subset, 2 epochs), then the replay run trains on their averaged labels."""
    common = [
        "data.subset=300",
        "data.test_subset=100",
        "optim.epochs=2",
        *QUIET,
        f"output_root={tmp_path}",
        "method.init_target_prob=0.7",
    ]
    for fold in range(5):
        train(load_config(["method=instance_labels", "split=holdout", f"split.fold={fold}", *common]))
    replay = load_config(
        [
            "method=replay",
            "split=full",
            'method.learn.overrides=["method.init_target_prob=0.7"]',
            *[c for c in common if not c.startswith("method.")],
        ]
    )
    result = train(replay)
    assert result.run_dir.is_done() and len(result.run_dir.read_metrics()) == 2
    traj = averaged_trajectory(replay)
    n = result.summary["num_train"]  # data.subset=300 keeps about 300; the full split trains on all of them
    assert (traj.kind, traj.num_epochs, traj.num_samples) == ("instance", 2, n)
    # every sample is trained by 4 of the 5 folds; the replayed labels are distributions that moved from the init
    labels = traj.labels(1, torch.zeros(n, dtype=torch.long))
    torch.testing.assert_close(labels.sum(dim=1), torch.ones(n), atol=1e-3, rtol=0)
    assert float(labels.max(dim=1).values.mean()) != pytest.approx(0.7, abs=1e-4)
