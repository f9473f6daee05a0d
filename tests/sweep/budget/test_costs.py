"""GPU-hour estimates of `repro sweep --dry-run` and the calibrations `repro bench` stores."""

from __future__ import annotations

import json
import math

import pytest

from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.sweep.budget import calibration, costs
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import run_gpu_hours, run_sizes
from repro.sweep.budget.estimate import estimate
from repro.sweep.spec.model import PlannedRun

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


def _run(run_id: str, config: dict) -> PlannedRun:
    """A planned run of stage "single" with this config (what the estimate prices)."""
    return PlannedRun(run_id, "row", "column", 0, "single", None, (), config)


def test_run_sizes_follow_the_split_without_loading_data():
    assert run_sizes(_config("split=full")) == (50000, 0, 10000)
    assert run_sizes(_config("split=holdout")) == (40000, 10000, 10000)
    assert run_sizes(_config("split=noisy")) == (49000, 1000, 10000)
    assert run_sizes(_config("split=holdout", "data.subset=1000", "data.test_subset=300")) == (800, 200, 300)


@pytest.mark.slow
def test_one_run_costs_epochs_times_steps_times_step_cost_plus_evaluation():
    # fold run: 40000 / 128 -> 313 meta steps of 40 ms, and 10000 meta + 10000 test images at 0.01 ms, 3 epochs
    fold = run_gpu_hours(_config("split=holdout", "method=instance_labels"), CAL)
    assert fold == pytest.approx(3 * (313 * 40.0 + 20000 * 0.01) / 3.6e6)
    # baseline on the full set, batch 64: half the batch -> half the step cost, 782 steps
    plain = run_gpu_hours(_config("split=full", "data.batch_size=64"), CAL)
    assert plain == pytest.approx(3 * (782 * 5.0 + 10000 * 0.01) / 3.6e6)
    # no figure for vgg16: resnet18's scaled by the forward FLOPs, never zero, and said
    # (tests/training/test_step_cost.py)
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
    assert "per-step costs: Test GPU, test, timed on the wall clock" in out
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
    runs = [_run("done", _config("split=full")), _run("alexnet", _config("split=full", "model=alexnet"))]
    got = estimate(runs, CAL, done={"done"})
    alexnet = run_gpu_hours(_config("split=full", "model=alexnet"), CAL)
    assert got.remaining == pytest.approx(alexnet) and got.total > alexnet > 0 and not got.unpriced
    text = got.render()
    assert "alexnet not measured here: resnet18's figures x" in text and "at least" in text
    assert "no per-step figure" not in text


@pytest.mark.slow
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
    stored = list(calibration.calibration_dir().glob("*.json"))
    assert len(stored) == 1
    cal = calibration.load_calibration()
    assert cal.batch == 4 and cal.steps_ms["smallcnn"]["meta"] > 0 and cal.source.startswith("measured")
    assert cal.half_batch_steps_ms["smallcnn"]["meta"] > 0  # timed at batch 2 too: a step's fixed part
    assert (cal.meta_batch, cal.low_meta_batch) == (8, 2) and set(cal.low_meta_batch_steps_ms["smallcnn"]) == {
        "meta",
        "weight_lookahead",
        "weighting_net_lookahead",
    }
    assert math.isfinite(cal.eval_ms_per_image["smallcnn"])
    out = capsys.readouterr().out
    assert "x plain" in out  # each kind against the plain step
    # whole short epochs of the plain and label look-ahead kinds: the per-epoch fixed cost and in-epoch step ratio
    assert "whole epochs: plain +" in out and set(cal.epoch_fixed_ms["smallcnn"]) == {"plain", "meta"}
    assert all(v >= 0 for v in cal.epoch_fixed_ms["smallcnn"].values())
    assert all(v >= 1 for v in cal.epoch_step_ratio["smallcnn"].values())


# The design notes' measured H100 epochs (/work/shared/DESIGN.md, "One epoch on full-size CIFAR-100"): the overrides
# of each, its measured seconds.
MEASURED_H100_EPOCHS = {
    "resnet18 baseline, 40k images": (["model=resnet18", "split=holdout", "method=baseline"], 6.3),
    "resnet18 instance labels, 40k": (["model=resnet18", "split=holdout", "method=instance_labels"], 17.7),
    "wrn28_10 instance labels, 49k": (
        ["model=wrn28_10", "split=noisy", "noise=uniform", "noise.fraction=0.4", "method=instance_labels"],
        78.5,
    ),
}


@pytest.mark.parametrize("name", list(MEASURED_H100_EPOCHS))
def test_the_h100_figures_price_the_design_notes_measured_epochs_within_15_percent(name):
    overrides, measured = MEASURED_H100_EPOCHS[name]
    config = to_container(load_config(["data=cifar100", "optim.epochs=1", *overrides]))
    steps, step_s, eval_s, fixed_s = costs.epoch_parts(config, Calibration.h100_defaults())
    assert fixed_s > 0  # the per-epoch fixed cost is priced
    assert abs((step_s + eval_s + fixed_s) / measured - 1) <= 0.15, (step_s, eval_s, fixed_s, measured)
    assert run_gpu_hours(config, Calibration.h100_defaults()) * 3600 == pytest.approx(step_s + eval_s + fixed_s)


def test_an_epochs_fixed_cost_and_in_epoch_step_ratio_enter_the_estimate():
    cal = Calibration(
        "Test GPU",
        128,
        {"resnet18": {"plain": 10.0, "meta": 40.0}},
        {"resnet18": 0.01},
        "test",
        epoch_fixed_ms={"resnet18": {"plain": 1000.0}},
        epoch_step_ratio={"resnet18": {"meta": 1.5}},
    )
    fold = run_gpu_hours(_config("split=holdout", "method=instance_labels"), cal)
    # the meta kind has no fixed figure of its own: plain's; its steps cost 1.5x inside an epoch
    assert fold == pytest.approx(3 * (313 * 40.0 * 1.5 + 20000 * 0.01 + 1000.0) / 3.6e6)
    plain = run_gpu_hours(_config("split=full"), cal)
    assert plain == pytest.approx(3 * (391 * 10.0 + 10000 * 0.01 + 1000.0) / 3.6e6)
    # stored and read back
    again = calibration.load_calibration(cal.gpu) if cal.save() else None
    assert again.epoch_fixed_ms == cal.epoch_fixed_ms and again.epoch_step_ratio == cal.epoch_step_ratio


def test_a_step_is_priced_on_the_line_through_the_two_timed_batches():
    # a meta step of 40 ms at 128 and 30 ms at 64: 20 ms fixed (the meta batch does not shrink) + 10/64 ms per image
    cal = Calibration(
        "G", 128, CAL.steps_ms, CAL.eval_ms_per_image, "test", None, {"resnet18": {"plain": 5.0, "meta": 30.0}}
    )
    fold = _config("split=holdout", "method=instance_labels", "data.batch_size=100")
    steps = math.ceil(40000 / 100)
    assert run_gpu_hours(fold, cal) == pytest.approx(3 * (steps * (20.0 + 100 * 10 / 64) + 20000 * 0.01) / 3.6e6)
    # without the second batch (an older calibration, the H100 table): in proportion to the batch
    assert run_gpu_hours(fold, CAL) == pytest.approx(3 * (steps * 40.0 * 100 / 128 + 20000 * 0.01) / 3.6e6)
    # a half batch timed slower than the full one (noise) never makes a smaller batch cost more than the full one
    noisy = Calibration("G", 128, CAL.steps_ms, CAL.eval_ms_per_image, "test", None, {"resnet18": {"meta": 50.0}})
    assert costs.price(fold, noisy).step_ms_at(100, 256, noisy) == pytest.approx(40.0)


def test_a_lookahead_step_is_priced_at_the_runs_meta_batch():
    # 40 ms at batch 128 / meta batch 256; 30 ms at batch 64; 28 ms at meta batch 64: 12/192 ms per meta image
    cal = Calibration(
        "G",
        128,
        CAL.steps_ms,
        CAL.eval_ms_per_image,
        "test",
        None,
        {"resnet18": {"plain": 5.0, "meta": 30.0}},
        256,
        64,
        {"resnet18": {"meta": 28.0}},
    )
    fixed = 40.0 - 128 * 10 / 64 - 256 * 12 / 192
    # MW-Net's meta batch of 100 (a weighting-net look-ahead: the labels' figures where not measured, factor 1)
    mwnet = _config("split=noisy", "method=mwnet", "memorisation_samples=0")
    steps = math.ceil(49000 / 128)
    want = fixed + 128 * 10 / 64 + 100 * 12 / 192
    assert run_gpu_hours(mwnet, cal) == pytest.approx(3 * (steps * want + 11000 * 0.01) / 3.6e6)
    # a meta set smaller than the meta batch: the whole meta set each step
    small = _config("split=noisy", "split.meta_fraction=0.001", "method=mwnet", "memorisation_samples=0")
    n_train, n_meta, _ = run_sizes(small)
    want = fixed + 128 * 10 / 64 + n_meta * 12 / 192
    steps = math.ceil(n_train / 128)
    assert run_gpu_hours(small, cal) == pytest.approx(3 * (steps * want + (n_meta + 10000) * 0.01) / 3.6e6)
    # a plain step runs no meta batch: the plain figures alone
    assert costs.price(_config(), cal).step_ms_at(128, None, cal) == pytest.approx(10.0)


@pytest.mark.slow
def test_the_evaluation_passes_each_epoch_are_priced_from_who_runs_them():
    def extra_hours(*overrides: str) -> float:  # over the same run without its extra passes, in eval images
        return run_gpu_hours(_config(*overrides), CAL) * 3.6e6 / 3 / 0.01

    noisy = ("split=noisy", "noise=uniform", "noise.fraction=0.4")
    # the memorisation recorder evaluates the 49000 noisy-labelled training images each epoch, or its cap, and the
    # 1000 held-out images for their noisy labels' loss (Patrini et al.'s selection of the estimating network)
    assert extra_hours(*noisy) - extra_hours(*noisy, "memorisation_samples=0") == pytest.approx(49000 + 1000)
    assert extra_hours(*noisy, "memorisation_samples=5000") - extra_hours(
        *noisy, "memorisation_samples=0"
    ) == pytest.approx(5000 + 1000)
    assert extra_hours(*noisy) == pytest.approx(extra_hours(*noisy, "memorisation_samples=10000000"))
    # a clean run has no such pass
    assert extra_hours("split=noisy", "memorisation_samples=0") == pytest.approx(extra_hours("split=noisy"))
    # co-teaching tests its second network each epoch: one more test pass than the same run's plain evaluation
    plain, coteaching = CAL.steps_ms["resnet18"]["plain"], 2 * CAL.steps_ms["resnet18"]["plain"]
    steps = math.ceil(49000 / 128)
    co = extra_hours("split=noisy", "method=coteaching", "memorisation_samples=0")
    base = extra_hours("split=noisy", "method=baseline", "memorisation_samples=0")
    assert co - base == pytest.approx(steps * (coteaching - plain) / 0.01 + 10000)


@pytest.mark.slow
def test_an_epochs_seconds_include_its_records(tmp_path, monkeypatch):
    """What GPU-hours spent and the plan-against-actual benchmark read: the recorders' passes (the memorisation pass
    over the training set) are part of the epoch's time. A recorder advances a fake clock; nothing else does."""
    import types

    import repro.train

    clock = [0.0]
    monkeypatch.setattr(repro.train, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    import repro.recorders.registry
    from repro.training.protocols import Recorder, When

    class SlowRecorder(Recorder):
        records, when = "nothing: it only takes time", When.EVERY_EPOCH

        @classmethod
        def for_run(cls, exp):
            return [cls()]

        def on_epoch_end(self, exp, epoch, row, tracker):
            clock[0] += 100.0

    monkeypatch.setattr(repro.recorders.registry, "RUN_RECORDERS", [SlowRecorder])
    args = ["data=digits", "model=smallcnn", "optim.epochs=2", *QUIET, "device=cpu"]
    assert main(["train", *args, f"output_root={tmp_path}"]) == 0
    (summary,) = tmp_path.glob("runs/*/summary.json")
    assert json.loads(summary.read_text())["seconds"] == pytest.approx(200.0)


def test_a_network_off_its_timed_width_is_priced_by_its_own_flops_and_says_so():
    """The calibration timed resnet18 at its default width: a half-width run costs less by its FLOPs, not the same."""
    default, narrow = costs.price(_config(), CAL), costs.price(_config("model.width=32"), CAL)
    assert default.step_ms == pytest.approx(10.0) and not default.notes
    assert 0 < narrow.step_ms < default.step_ms / 2  # convolutions' FLOPs fall with the square of the width
    assert any("width=32" in note and "default width" in note for note in narrow.notes)
    assert costs.price(_config("model.width=64"), CAL).step_ms == pytest.approx(10.0)  # the default, named: as timed
