"""GPU-hour estimates of `repro sweep --dry-run` and the calibrations `repro bench` stores."""

from __future__ import annotations

import math

import pytest

from repro.cli import main
from repro.config import load_config, to_container
from repro.sweep import costs
from repro.sweep.costs import Calibration, estimate, run_gpu_hours, run_sizes

TINY_SWEEP = """
name: tiny-costs
table: 1
metric: final_test_acc
seeds: [0, 1]
common: [data=cifar100, model=resnet18, split=full, optim.epochs=200]
columns:
  C: []
rows:
  Baseline: [method=baseline]
  Ours (Instance):
    learn: [method=instance_labels]
"""
CAL = Calibration("Test GPU", 128, {"resnet18": {"plain": 10.0, "meta": 40.0}}, {"resnet18": 0.01}, "test")


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def _config(*overrides: str) -> dict:
    return to_container(load_config(["data=cifar100", "model=resnet18", "optim.epochs=3", *overrides]))


def test_run_sizes_follow_the_split_without_loading_data():
    assert run_sizes(_config("split=full")) == (50000, 0, 10000)
    assert run_sizes(_config("split=holdout")) == (40000, 10000, 10000)
    assert run_sizes(_config("split=noisy")) == (49000, 1000, 10000)
    assert run_sizes(_config("split=holdout", "data.subset=1000", "data.test_subset=300")) == (800, 200, 300)


def test_one_run_costs_epochs_times_steps_times_step_cost_plus_evaluation():
    # fold run: 40000 / 128 -> 313 meta steps of 40 ms, and 10000 meta + 10000 test images at 0.01 ms, 3 epochs
    fold = run_gpu_hours(_config("split=holdout", "method=instance_labels"), CAL)
    assert fold == pytest.approx(3 * (313 * 40.0 + 20000 * 0.01) / 3.6e6)
    # baseline on the full set, batch 64: half the batch -> half the step cost, 782 steps
    plain = run_gpu_hours(_config("split=full", "data.batch_size=64"), CAL)
    assert plain == pytest.approx(3 * (782 * 5.0 + 10000 * 0.01) / 3.6e6)
    # no figure for vgg16: resnet18's scaled by the forward FLOPs, never zero, and said (test_step_cost.py)
    assert 0 < run_gpu_hours(_config("model=vgg16"), CAL) < run_gpu_hours(_config(), CAL)


def test_dry_run_prints_gpu_hours_per_stage_and_total(tmp_path, capsys):
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    CAL.save()  # the only stored calibration: used where this machine has no GPU of its own
    assert main(["sweep", str(sweep), "--dry-run", "--output-root", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    single = 2 * 200 * (391 * 10.0 + 10000 * 0.01) / 3.6e6  # 2 seeds, 50000 / 128 -> 391 steps
    fold = 2 * 5 * 200 * (313 * 40.0 + 20000 * 0.01) / 3.6e6  # 2 seeds x 5 folds
    final = 2 * 200 * (391 * 10.0 + 10000 * 0.01) / 3.6e6  # replay: plain steps
    assert "per-step costs: Test GPU" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    assert lines["single"][1:] == ["2", f"{single:.2f}"]
    assert lines["fold"][1:] == ["10", f"{fold:.2f}"]
    assert lines["final"][1:] == ["2", f"{final:.2f}"]
    assert lines["total"][1:] == ["14", f"{single + fold + final:.2f}"]


def test_without_a_calibration_the_h100_figures_are_used_and_said(tmp_path, capsys):
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    assert main(["sweep", str(sweep), "--dry-run", "--output-root", str(tmp_path / "out")]) == 0
    assert "H100 figures (no calibration of your GPU" in capsys.readouterr().out
    assert main(["sweep", str(sweep), "--dry-run", "--gpu-model", "Nope GPU"]) == 2


def test_estimate_counts_done_runs_apart_and_says_which_figures_are_estimates():
    runs = [("single", _config("split=full"), True), ("single", _config("split=full", "model=alexnet"), False)]
    got = estimate(runs, CAL)
    alexnet = run_gpu_hours(_config("split=full", "model=alexnet"), CAL)
    assert got.remaining == pytest.approx(alexnet) and got.total > alexnet > 0 and not got.unpriced
    text = got.render()
    assert "alexnet not measured here: resnet18's figures x" in text and "at least" in text
    assert "no per-step figure" not in text


def test_bench_measures_and_stores_a_calibration_the_estimate_reads(capsys):
    assert (
        main(
            [
                "bench",
                "--device",
                "cpu",
                "--models",
                "smallcnn",
                "--batch",
                "4",
                "--meta-batch",
                "8",
                "--classes",
                "10",
                "--steps",
                "1",
            ]
        )
        == 0
    )
    stored = list(costs.calibration_dir().glob("*.json"))
    assert len(stored) == 1
    cal = costs.load_calibration()
    assert cal.batch == 4 and cal.steps_ms["smallcnn"]["meta"] > 0 and cal.source.startswith("measured")
    assert math.isfinite(cal.eval_ms_per_image["smallcnn"])
    assert "x plain" in capsys.readouterr().out  # each kind against the plain step
