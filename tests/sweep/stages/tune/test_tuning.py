"""The tuned run's side of the tuning stage (repro/sweep/stages/tune/tuning.py): it picks the validation winner from
its finished
tuning runs (even when test disagrees), ties go to the grid's first point, its run id is the same before and after
the pick and does not depend on the tuned keys' values, and unfinished tuning runs are refused before any work."""

from __future__ import annotations

import pytest

from repro.config import load_config, to_container
from repro.errors import UserError
from repro.runs.rundir import RunDir, run_id
from repro.sweep.stages.tune import tuning
from repro.sweep.stages.tune.tune_spec import grid_range


def _config(tmp_path, *extra: str) -> dict:
    return to_container(load_config(["method=class_labels", f"output_root={tmp_path}", *extra]))


def _tuned(base: dict, points: list[tuple], ids: list[str]) -> dict:
    cfg = {
        **base,
        "tune": {
            "keys": ["method.label_lr", "method.init_target_prob"],
            "runs": [{"run": i, "values": list(p)} for i, p in zip(ids, points)],
            "select": "final_val_acc",
            "chosen": None,
        },
    }
    return cfg


def _done(root, rid: str, **summary) -> None:
    rd = RunDir(root / "runs" / rid)
    rd.path.mkdir(parents=True)
    rd.write_summary(summary)


def test_the_run_takes_the_validation_winner_even_when_test_disagrees(tmp_path):
    points = [(25, 0.5), (25, 0.9), (50, 0.5), (50, 0.9)]
    ids = [f"digits-smallcnn-class_labels-t{i}" for i in range(4)]
    cfg = _tuned(_config(tmp_path), points, ids)
    with pytest.raises(UserError, match="4 are not done"):
        tuning.apply(cfg)
    val, test = (0.80, 0.85, 0.90, 0.70), (0.80, 0.85, 0.60, 0.99)  # validation: (50, 0.5); test: (50, 0.9)
    for rid, v, t in zip(ids, val, test):
        _done(tmp_path, rid, final_val_acc=v, final_test_acc=t, best_val_acc=v, test_acc_at_best_val=t)
    out = tuning.apply(cfg)
    assert out["method"]["label_lr"] == 50 and out["method"]["init_target_prob"] == 0.5
    assert out["tune"]["chosen"] == [50, 0.5]
    assert run_id(out) == run_id(cfg)  # same run before and after the pick
    fields = tuning.summary_fields(out)
    assert fields["tuned"] == "label_lr=50, init_target_prob=0.5" and fields["tune_runs"] == ids


def test_ties_go_to_the_grid_first_point_and_seeds_are_averaged():
    scored = [((0.0,), 0.9, ["a"]), ((2.0,), 0.95, ["b"]), ((4.0,), 0.95, ["c"])]
    assert tuning.choose(scored) == (2.0,)
    assert grid_range({"start": 0, "stop": 10, "step": 0.25}, "f", "g") == [i * 0.25 for i in range(41)]
    assert grid_range({"start": 0, "stop": 8, "step": 2}, "f", "g") == [0, 2, 4, 6, 8]
    for bad in ({"start": 0, "stop": 1, "step": 0}, {"start": 2, "stop": 1, "step": 1}, {"start": 0, "stop": 1}):
        with pytest.raises(UserError, match="a range needs"):
            grid_range(bad, "f", "g")


def test_points_whose_seeds_hit_the_same_total_tie_and_the_first_wins(tmp_path):
    # 57 + 59 and 58 + 58 of 60 validation images: the same mean, but float addition puts the first a rounding below
    ids = ["r200s0", "r200s1", "r50s0", "r50s1"]
    cfg = _tuned(_config(tmp_path), [(200, 0.5), (200, 0.5), (50, 0.5), (50, 0.5)], ids)
    assert (57 / 60 + 59 / 60) / 2 != (58 / 60 + 58 / 60) / 2  # the rounding this test is about
    for rid, hits in zip(ids, (57, 59, 58, 58)):
        _done(tmp_path, rid, final_val_acc=hits / 60)
    assert tuning.apply(cfg)["method"]["label_lr"] == 200


def test_seeds_are_averaged_per_point(tmp_path):
    cfg = _config(tmp_path)
    cfg["tune"] = {
        "keys": ["method.label_lr"],
        "select": "best_val_acc",
        "chosen": None,
        "runs": [
            {"run": "r1s0", "values": [1]},
            {"run": "r1s1", "values": [1]},
            {"run": "r2s0", "values": [2]},
            {"run": "r2s1", "values": [2]},
        ],
    }
    for rid, v in (("r1s0", 0.9), ("r1s1", 0.5), ("r2s0", 0.8), ("r2s1", 0.8)):
        _done(tmp_path, rid, best_val_acc=v)
    assert tuning.apply(cfg)["method"]["label_lr"] == 2  # mean 0.8 beats mean 0.7


def test_the_run_id_ignores_the_tuned_keys_values_but_not_the_tuning_runs(tmp_path):
    a = _tuned(_config(tmp_path, "method.label_lr=3"), [(1, 0.5)], ["x"])
    b = _tuned(_config(tmp_path, "method.label_lr=30"), [(1, 0.5)], ["x"])
    c = _tuned(_config(tmp_path), [(1, 0.5)], ["y"])
    assert run_id(a) == run_id(b) != run_id(c)
    plain = _config(tmp_path)
    assert run_id(plain) == run_id({k: v for k, v in plain.items() if k != "tune"})  # untuned ids did not change
