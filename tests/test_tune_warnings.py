"""Warnings when a tuning stage may have missed, on digits (issue 28, parts 5-6): a label-lr grid too small for the
labels to move, and a winner on the largest value of its grid axis. Shown in the sweep's output, `repro sweep
status`, the tuned runs' summary (W&B takes its one-string form) and `repro tables`."""

from __future__ import annotations

import textwrap

import pytest

from repro.cli import main
from repro.rundir import RunDir
from repro.sweep import Scale, run_sweep
from repro.tune_warnings import MOVED_THRESHOLD, edge_warnings, movement_warning

SCALE = Scale(epochs=1, subset=200, test_subset=100)
COMMON = "common: [data=digits, model=smallcnn, split=full, split.folds=2, tracker=none, progress=none]"
FROZEN = f"""
    name: frozen
    metric: final_test_acc
    seeds: [0]
    {COMMON}
    columns:
      Digits: []
    rows:
      Ours (Class):
        learn: [method=class_labels]
        tune:
          grid: {{method.label_lr: [0.000001, 0.00001]}}
"""
EDGE = f"""
    name: edge
    metric: final_test_acc
    seeds: [0]
    {COMMON}
    columns:
      Digits: []
    rows:
      Baseline:
        overrides: [method=baseline, optim.epochs=2]
        tune:
          grid: {{optim.lr: [0.00001, 0.0001, 0.2]}}
"""


def _sweep(tmp_path, text: str) -> str:
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_the_edge_rule_names_the_axis_and_the_direction():
    keys = ["method.label_lr", "method.init_target_prob"]
    points = [(a, b) for a in (5, 10, 100) for b in (0.5, 0.9)]
    assert edge_warnings(keys, points, (10, 0.9)) == []  # two values: no inside, no warning
    (up,) = edge_warnings(keys, points, (100, 0.5))
    assert "method.label_lr=100 is the largest" in up and "extend method.label_lr upward" in up
    (down,) = edge_warnings(keys, points, (5, 0.9))
    assert "extend method.label_lr downward" in down
    assert movement_warning([MOVED_THRESHOLD * 2]) is None and movement_warning([]) is None
    assert str(MOVED_THRESHOLD) in movement_warning([MOVED_THRESHOLD / 2, MOVED_THRESHOLD / 4])


def test_labels_that_barely_moved_warn_in_the_output_status_and_summary(tmp_path, capsys):
    path, out = _sweep(tmp_path, FROZEN), tmp_path / "out"
    plan = run_sweep(path, output_root=out, scale=SCALE)
    assert not plan.failed
    printed = capsys.readouterr().out
    assert "WARNING: the winner's labels barely moved" in printed and f"< {MOVED_THRESHOLD}" in printed
    final = next(r for r in plan.unique.values() if r.stage == "final")
    fold = next(r for r in plan.unique.values() if r.stage == "fold")
    for run in (final, fold):  # every tuned run of the cell records the warning
        summary = RunDir(out.resolve() / "runs" / run.run_id).read_summary()
        assert any("barely moved" in w for w in summary["tune_warnings"]) and "barely moved" in summary["tune_warning"]
    tune = next(r for r in plan.unique.values() if r.stage == "tune")
    moved = RunDir(out.resolve() / "runs" / tune.run_id).read_summary()["final_label_change_mean"]
    assert 0 <= moved < MOVED_THRESHOLD
    assert main(["sweep", "status", path, "--output-root", str(out)]) == 0
    assert "WARNING: the winner's labels barely moved" in capsys.readouterr().out


def test_a_winner_on_the_largest_grid_value_warns_about_the_edge(tmp_path, capsys):
    path, out = _sweep(tmp_path, EDGE), tmp_path / "out"
    plan = run_sweep(path, output_root=out, scale=SCALE)
    assert not plan.failed
    printed = capsys.readouterr().out
    assert "winner lr=0.2" in printed
    assert "WARNING: the winner's optim.lr=0.2 is the largest value of the grid" in printed
    assert "extend optim.lr upward" in printed and "barely moved" not in printed  # no learned labels: no movement


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
