"""`repro sweep FILE --preflight`: the corners of every tuned cell's grid, a few epochs each, as
runs of their own; label movement and step time per corner, then the plan recalibrated."""

from __future__ import annotations

import pytest

from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.budget.preflight import corners
from tuned_sweep import SUBSET_ARGS, write_tuned_sweep

GRID = "{method.label_lr: [0.3, 1, 3], method.init_target_prob: [0.5, 0.9]}"


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def test_corners_take_each_numeric_axis_ends_in_grid_order():
    grid = [(a, b) for a in (3, 0.3, 1) for b in (0.5, 0.9)]
    assert corners(grid) == [(3, 0.5), (3, 0.9), (0.3, 0.5), (0.3, 0.9)]
    assert corners([("x", 1), ("y", 1), ("z", 1)]) == [("x", 1), ("z", 1)]


def test_preflight_trains_the_corners_as_its_own_runs_and_prints_label_movement(tmp_path, capsys):
    path, out = write_tuned_sweep(tmp_path, GRID), tmp_path / "out"
    args = ["sweep", str(path), "--preflight", "--preflight-epochs", "1", "--output-root", str(out), "--jobs", "1"]
    assert main([*args, *SUBSET_ARGS]) == 0
    text = capsys.readouterr().out
    assert "preflight: 4 run(s) at the corners" in text
    lines = [line for line in text.splitlines() if line.startswith("Ours (Class)") and "label_lr=" in line]
    assert [line.split()[3:5] for line in lines] == [
        ["label_lr=0.3,", "init_target_prob=0.5"],
        ["label_lr=0.3,", "init_target_prob=0.9"],
        ["label_lr=3,", "init_target_prob=0.5"],
        ["label_lr=3,", "init_target_prob=0.9"],
    ]
    moved = [float(line.split()[5]) for line in lines]
    assert all(m >= 0 for m in moved) and moved[2] > moved[0]  # a 10x label lr moves the labels further
    assert "recalibrated plan on this machine" in text and "estimated GPU-hours" in text
    # its own runs: under <output_root>/preflight, none in the table's runs
    assert not (out / "runs").exists()
    runs = list((out / "preflight" / "runs").iterdir())
    assert len(runs) == 4 and all(RunDir(r).read_summary()["epochs"] == 1 for r in runs)


def test_preflight_on_slurm_needs_a_profile_and_a_dry_run_trains_nothing(tmp_path, capsys):
    path = write_tuned_sweep(tmp_path, GRID)
    out = ["--output-root", str(tmp_path / "out")]
    assert main(["sweep", str(path), "--preflight", "--executor", "slurm", *out]) == 2
    assert "--profile slurm/profiles/NAME.yaml" in capsys.readouterr().err
    assert main(["sweep", str(path), "--preflight", "--dry-run", *out]) == 2
    assert "leave out --dry-run" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was written
