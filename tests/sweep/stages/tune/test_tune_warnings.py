"""Warnings when a tuning stage may have missed, on digits: a label-lr grid too small for the
labels to move, and a winner on the largest value of its grid axis. Shown in the sweep's output, `repro sweep
status`, the tuned runs' summary (W&B takes its one-string form) and `repro tables`."""

from __future__ import annotations

import textwrap

import pytest

from analysis.collect import collect_runs
from analysis.tables.build import build_table
from analysis.tables.paper import paper_table
from analysis.tables.paper_selection import selection_rules
from analysis.tables.render import render_markdown, table_frame
from presets import QUIET
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.run import run_sweep
from repro.sweep.stages.tune.tune_warnings import MOVED_THRESHOLD, edge_warnings, movement_warning
from repro.sweep.sweep_file import load_sweep
from tuned_sweep import SCALE, write_tuned_sweep

COMMON = "common: [data=digits, model=smallcnn, split=full, split.folds=2]"
EDGE = f"""
    name: edge
    metric: final_test_acc
    seeds: [0]
    {COMMON}
    columns:
      Digits: []
    rows:
      Baseline:
        overrides: [method=baseline, split=holdout, split.fold=0]
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
    assert edge_warnings(["method.temperature"], [(0,), (1,), (2,)], (0,)) == []  # nothing lies below 0
    assert movement_warning([MOVED_THRESHOLD * 2]) is None and movement_warning([]) is None
    assert str(MOVED_THRESHOLD) in movement_warning([MOVED_THRESHOLD / 2, MOVED_THRESHOLD / 4])


@pytest.mark.slow
def test_labels_that_barely_moved_warn_in_the_output_status_and_summary(tmp_path, capsys):
    path, out = str(write_tuned_sweep(tmp_path, "{method.label_lr: [0.000001, 0.00001]}")), tmp_path / "out"
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


@pytest.mark.slow
def test_a_winner_on_the_largest_grid_value_warns_about_the_edge(tmp_path, capsys):
    path, out = _sweep(tmp_path, EDGE), tmp_path / "out"
    plan = run_sweep(path, output_root=out, scale=SCALE, extra_overrides=QUIET)
    assert not plan.failed
    printed = capsys.readouterr().out
    assert "winner lr=0.2" in printed
    assert "WARNING: the winner's optim.lr=0.2 is the largest value of the grid" in printed
    assert "extend optim.lr upward" in printed and "barely moved" not in printed  # no learned labels: no movement
    # repro tables: the warning under the table and in the CSV, and both accuracies of the cell (it has a validation
    # set: the held-out fold)
    result = build_table(
        1, load_sweep(path), collect_runs(out), paper_table(6).iloc[:0], output_root=out.resolve(), scale=SCALE
    )
    cell = result.cells[("Baseline", "Digits")]
    run = RunDir(out.resolve() / "runs" / next(r.run_id for r in plan.unique.values() if r.stage == "single"))
    assert cell.best_val == [100 * run.read_summary()["test_acc_at_best_val"]]
    assert "at best val epoch: " in cell.ours_text()
    markdown, csv = render_markdown(result), table_frame(result)
    assert "Tuning warnings" in markdown and "extend optim.lr upward" in markdown
    assert "extend optim.lr upward" in csv.loc[0, "tune_warning"]
    assert csv.loc[0, "ours_best_val_mean"] == pytest.approx(cell.best_val[0], abs=1e-4)


def test_tables_note_how_the_papers_numbers_were_selected():
    rules = selection_rules(6)
    assert "best test accuracy" in rules["MWNet"] and "epoch 84" in selection_rules(7)["Data Parameters"]
    assert "Ours (Instance labels)" not in rules  # ours is never selected on test


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
