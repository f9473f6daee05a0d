"""`repro sweep FILE --preflight`: the corners of every tuned cell's grid, a few epochs each, as
runs of their own; label movement and step time per corner, then the plan recalibrated."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.stages.tune.preflight import corners, peak_lr_epochs
from tuned_sweep import SUBSET_ARGS, write_tuned_sweep

GRID = "{method.label_lr: [0.3, 1, 3], method.init_target_prob: [0.5, 0.9]}"


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def test_corners_take_each_numeric_axis_ends_in_grid_order():
    grid = [(a, b) for a in (3, 0.3, 1) for b in (0.5, 0.9)]
    assert corners(grid) == [(3, 0.5), (3, 0.9), (0.3, 0.5), (0.3, 0.9)]
    assert corners([("x", 1), ("y", 1), ("z", 1)]) == [("x", 1), ("z", 1)]


@pytest.mark.slow
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
    # at the tuning runs' peak lr, and the movement judged per epoch
    optim = [RunDir(r).read_config()["optim"] for r in runs]
    assert {(o["schedule"], o["warmup_epochs"]) for o in optim} == {("constant", 0)}
    assert "per epoch" in text and "needed per epoch" in text and "at the tuning runs' peak lr" in text


def test_the_needed_movement_per_epoch_counts_the_tuning_runs_lr_in_peak_epochs():
    from repro.config import load_config, to_container

    def peak_epochs(*overrides: str) -> float:
        return peak_lr_epochs(to_container(load_config(["model=resnet18", "data=cifar100", *overrides])))

    assert peak_epochs("optim/warmup=none", "optim.schedule=constant") == pytest.approx(165)
    # cosine to 0 after 5 linear warm-up epochs: 1.2 + 160 / 2 + 0.5 (the cosine's first term counted whole)
    assert peak_epochs() == pytest.approx(0.2 + 0.4 + 0.6 + 0.8 + 1.0 + 80.5, abs=1e-6)
    assert peak_epochs("optim/lookahead_lr=peak") == pytest.approx(165)  # the labels step at the peak throughout
    # setting A's 20,000 steps of batch 100 at lr, lr/10, lr/100: 17,999 + 100.0 + 10.01 step-equivalents
    a = peak_epochs("optim=setting_a", "data.batch_size=100", "split=noisy")
    assert a == pytest.approx((17999 + 1000 * 0.1 + 1001 * 0.01) / 490)


def test_preflight_on_slurm_needs_a_profile_and_a_dry_run_trains_nothing(tmp_path, capsys):
    path = write_tuned_sweep(tmp_path, GRID)
    out = ["--output-root", str(tmp_path / "out")]
    assert main(["sweep", str(path), "--preflight", "--executor", "slurm", *out]) == 2
    assert "--profile slurm/profiles/NAME.yaml" in capsys.readouterr().err
    assert main(["sweep", str(path), "--preflight", "--dry-run", *out]) == 2
    assert "leave out --dry-run" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_cells_that_share_their_tuning_runs_are_preflighted_once(tmp_path):
    from repro.sweep.stages.tune.preflight import preflight_runs
    from repro.sweep.sweep_file import load_sweep
    from repro.sweep.sweep_plan import plan_sweep

    # demo Table 6's "Ours (setting A)" is "Ours (Instance labels)" on digits: the same tuning runs, the same corners
    plan = plan_sweep(load_sweep(REPO / "sweeps" / "demo" / "table6.yaml"), output_root=tmp_path)
    runs = preflight_runs(plan, 2, tmp_path / "preflight")
    assert len(runs) == len({pre.run_id for pre, *_ in runs}) == 8  # 2 distinct tuned cells x 4 corners
