"""The fold runs a replay run reads (repro/labels/fold_runs.py): their configs are the ones `repro train` would run, and
a missing or unfinished fold is named with its directory and state."""

from __future__ import annotations

import pytest

from fold_fixtures import FOLDS, E, make_instance_fold_runs, replay_cfg
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.labels.fold_runs import finished_fold_runs, fold_run_configs, learn_method_config
from repro.runs.rundir import run_id


@pytest.mark.slow
def test_fold_run_configs_match_what_repro_train_would_run(tmp_path):
    cfg = replay_cfg(tmp_path, 'method.learn.overrides=["method.label_lr=25","method.init_target_prob=0.5"]')
    for fold, config in enumerate(fold_run_configs(cfg)):
        direct = load_config(
            [
                "method=instance_labels",
                "method.label_lr=25",
                "method.init_target_prob=0.5",
                "split=holdout",
                f"split.folds={FOLDS}",
                "split.meta_fraction=0.3",
                f"split.fold={fold}",
                f"optim.epochs={E}",
                f"output_root={tmp_path}",
            ]
        )
        assert run_id(config) == run_id(to_container(direct))


def test_the_learned_method_is_composed_once_and_handed_out_as_a_fresh_copy():
    """learn_method_config keeps each (method, overrides) composition for the process: a caller that changes what it
    got changes no later caller's, and other overrides are another composition."""
    learn = {"method": "instance_labels", "overrides": ["method.label_lr=25"]}
    first = learn_method_config(learn)
    assert first["label_lr"] == 25 and first["labels"] == "instance"
    first["label_lr"] = -1.0
    assert learn_method_config(learn) == {**first, "label_lr": 25}
    assert learn_method_config({"method": "instance_labels", "overrides": ["method.label_lr=7"]})["label_lr"] == 7


def test_learn_overrides_must_stay_inside_method(tmp_path):
    with pytest.raises(UserError, match="method.\\* keys"):
        fold_run_configs(replay_cfg(tmp_path, 'method.learn.overrides=["optim.lr=0.1"]'))


def test_a_missing_fold_is_named(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg, skip=(1,))
    with pytest.raises(UserError) as err:
        finished_fold_runs(cfg)
    message = str(err.value)
    assert "fold 1" in message and str(dirs[1].path) in message and "missing" in message
    assert "fold 0" not in message and "fold 2" not in message


def test_an_unfinished_fold_is_named(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg, unfinished=(2,))
    with pytest.raises(UserError, match="fold 2: .*running at epoch 1") as err:
        finished_fold_runs(cfg)
    assert str(dirs[2].path) in str(err.value)
