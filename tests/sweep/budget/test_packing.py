"""A packed sweep (`--runs-per-gpu K`) priced from a calibration's concurrency figure per step kind (fabricated here: no
GPU measured it), from the plain step's where a kind was not measured, at K=1 where there is none, and refused when K
runs do not fit the GPU's memory (repro/sweep/budget/packing.py)."""

from __future__ import annotations

import json

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.errors import UserError
from repro.sweep.budget.calibration import Calibration, calibration_file, load_calibration
from repro.sweep.budget.estimate import estimate, plan_estimate
from repro.sweep.budget.packing import check_fits, packed_hours
from repro.sweep.run import run_sweep

TABLE1 = REPO / "sweeps" / "table1.yaml"
STEPS = {"resnet18": {"plain": 10.0, "meta": 40.0}, "vgg16": {"plain": 6.0, "meta": 25.0}}
EVAL = {"resnet18": 0.01, "vgg16": 0.006}


def _calibration(**packing) -> Calibration:
    return Calibration("Test GPU", 128, STEPS, EVAL, "test", **packing)


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


@pytest.mark.slow
def test_a_packed_table1_is_priced_from_the_measured_concurrency(tmp_path, capsys):
    # fabricated figures: 4 runs side by side do 2.5x (ResNet18) and 3.2x (VGG16) one run's steps per second, of
    # either step kind (the learned-labels rows' look-ahead steps and the one-hot rows' plain steps)
    same = {"resnet18": 2.5, "vgg16": 3.2}
    _calibration(
        concurrency={m: {"plain": {"4": s}, "meta": {"4": s}} for m, s in same.items()},
        peak_memory_mb={"resnet18": {"plain": 3000.0, "meta": 5000.0}, "vgg16": {"plain": 2500.0, "meta": 4000.0}},
        device_memory_mb=81559.0,
    ).save()
    plan = run_sweep(TABLE1, output_root=tmp_path / "out", dry_run=True, gpu_model="Test GPU", report=lambda _: None)
    alone, packed = plan_estimate(plan, "Test GPU", 1), plan_estimate(plan, "Test GPU", 4)
    cal = load_calibration("Test GPU")
    per_model = {m: estimate(_runs(plan, m), cal).total / estimate(_runs(plan, m), cal, (), 4).total for m in STEPS}
    assert per_model == {"resnet18": pytest.approx(2.5), "vgg16": pytest.approx(3.2)}
    assert alone.total / 3.2 < packed.total < alone.total / 2.5
    assert not [n for n in packed.notes if "priced K=1" in n]
    argv = ["sweep", str(TABLE1), "--dry-run", "--gpu-model", "Test GPU", "--output-root", str(tmp_path / "out")]
    assert main([*argv, "--runs-per-gpu", "4"]) == 0
    out = capsys.readouterr().out
    assert (
        "packed 4 runs per GPU: priced from the measured aggregate throughput (resnet18 meta x2.50, resnet18 plain "
        "x2.50, vgg16 meta x3.20, vgg16 plain x3.20)"
    ) in out
    assert f"{packed.total:.2f}" in out
    # K=2 was not measured: priced K=1, no speed-up assumed, and said
    assert main([*argv, "--runs-per-gpu", "2"]) == 0
    out = capsys.readouterr().out
    assert "priced K=1 (no speed-up assumed) for resnet18 meta, resnet18 plain, vgg16 meta, vgg16 plain" in out
    assert f"{alone.total:.2f}" in out


def _runs(plan, model: str) -> list:
    """The plan's runs of one model (for a per-model ratio)."""
    return [r for r in plan.unique.values() if r.config["model"]["name"] == model]


@pytest.mark.slow  # plans Table 1
def test_k_runs_that_do_not_fit_the_gpu_are_refused_with_the_largest_k_that_fits(tmp_path, capsys):
    peaks = {"resnet18": {"plain": 20000.0, "meta": 30000.0}, "vgg16": {"plain": 12000.0}}
    cal = _calibration(peak_memory_mb=peaks, device_memory_mb=81559.0)
    both = [("resnet18", "plain"), ("resnet18", "meta"), ("vgg16", "plain")]
    with pytest.raises(UserError, match=r"The largest K that fits every model of this sweep is 2") as refused:
        check_fits(both, 4, cal, None)
    assert "resnet18's measured peak memory is 29.3 GB per run (meta steps" in str(refused.value)
    assert check_fits(both, 2, cal, None) is None
    # the plain rows alone fit 4 to a GPU: the look-ahead's larger peak is what refused them above
    assert check_fits([("resnet18", "plain"), ("vgg16", "plain")], 4, cal, None) is None
    # a kind whose own peak was not measured is checked from the plain step's, and the check says so
    note = check_fits([("vgg16", "meta")], 2, cal, None)
    assert "checked from the plain step's peak for vgg16 meta, which under-counts a look-ahead step" in note
    # the profile's gpu_memory_gb is the GPU's memory where given: 40 GB holds one ResNet18 look-ahead run
    with pytest.raises(UserError, match=r"is 1: give --runs-per-gpu 1"):
        check_fits([("resnet18", "meta")], 2, cal, 40)
    # nothing measured: not checked, and said
    note = check_fits([("resnet18", "plain")], 2, _calibration(), None)
    assert "memory not checked" in note and "no measured peak memory for resnet18" in note
    # the command refuses before planning anything further
    cal.save()
    argv = ["sweep", str(TABLE1), "--dry-run", "--gpu-model", "Test GPU", "--output-root", str(tmp_path / "out")]
    assert main([*argv, "--runs-per-gpu", "8"]) == 2
    assert "--runs-per-gpu 8 does not fit" in capsys.readouterr().err


def test_a_calibration_keeps_its_concurrency_figures():
    figures = {"resnet18": {"plain": {"2": 1.7}, "meta": {"2": 1.2}}}
    cal = _calibration(concurrency=figures, peak_memory_mb={"resnet18": {"plain": 2100.5}}, device_memory_mb=1e5)
    cal.save()
    again = load_calibration("Test GPU")
    assert (again.concurrency, again.peak_memory_mb, again.device_memory_mb) == (
        figures,
        {"resnet18": {"plain": 2100.5}},
        1e5,
    )


def test_a_calibration_stored_before_the_kinds_were_measured_apart_reads_as_the_plain_steps():
    """Files written by `repro bench --concurrency` before it measured each kind hold {model: {K: S}} and
    {model: MB}: the plain step's figures."""
    cal = _calibration(device_memory_mb=1e5)
    cal.save()
    path = calibration_file("Test GPU")
    raw = json.loads(path.read_text())
    raw.update(concurrency={"resnet18": {"2": 1.7, "4": 3.1}}, peak_memory_mb={"resnet18": 2100.5})
    path.write_text(json.dumps(raw))
    again = load_calibration("Test GPU")
    assert again.concurrency == {"resnet18": {"plain": {"2": 1.7, "4": 3.1}}}
    assert again.peak_memory_mb == {"resnet18": {"plain": 2100.5}}


def test_a_look_ahead_run_is_priced_from_its_own_kind_else_from_the_plain_steps_and_says_so():
    cal = _calibration(
        concurrency={"resnet18": {"plain": {"4": 3.0}, "meta": {"4": 1.5}}, "vgg16": {"plain": {"4": 2}}}
    )
    assert packed_hours(6.0, "resnet18", "meta", cal, 4) == (pytest.approx(4.0), None)
    assert packed_hours(6.0, "resnet18", "plain", cal, 4) == (pytest.approx(2.0), None)
    hours, note = packed_hours(6.0, "vgg16", "meta", cal, 4)
    assert hours == pytest.approx(3.0) and "priced from the plain step's speed-up x2.00, which over-promises" in note
    hours, note = packed_hours(6.0, "alexnet", "plain", cal, 4)
    assert hours == 6.0 and "priced K=1" in note


@pytest.mark.slow
@pytest.mark.e2e
def test_bench_concurrency_stores_what_the_dry_run_prices_a_packed_sweep_from(tmp_path, capsys):
    """Measured here, on this CPU (the figure is this device's): two processes side by side against one."""
    from presets import write_tiny_sweep

    argv = ["bench", "--device", "cpu", "--models", "smallcnn", "--kinds", "plain", "--no-epochs", "--steps", "1"]
    argv += ["--batch", "8", "--meta-batch", "8"]
    assert main([*argv, "--concurrency", "1"]) == 2  # K=1 is the reference, always measured
    assert "--concurrency 1" in capsys.readouterr().err
    assert main([*argv, "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "side by side, plain: K=1" in out and "figures for this CPU" in out
    (stored,) = (tmp_path / "calibration").glob("cpu-*.json")
    cal = load_calibration(stored.stem)
    assert set(cal.concurrency) == {"smallcnn"} and cal.concurrency["smallcnn"]["plain"]["2"] > 0
    assert cal.peak_memory_mb["smallcnn"]["plain"] > 0 and cal.device_memory_mb is None  # a CPU: no device memory
    sweep = write_tiny_sweep(tmp_path)
    argv = ["sweep", str(sweep), "--dry-run", "--gpu-model", cal.gpu, "--output-root", str(tmp_path / "out")]
    assert main([*argv, "--runs-per-gpu", "2"]) == 0
    out = capsys.readouterr().out
    speedup = cal.concurrency["smallcnn"]["plain"]["2"]
    # the tiny sweep's look-ahead rows are priced from the plain step's figure (only plain was measured), and said
    measured = f"(smallcnn meta x{speedup:.2f} (plain's), smallcnn plain x{speedup:.2f})"
    assert f"priced from the measured aggregate throughput {measured}" in out
    assert "smallcnn (meta steps): packed K=2 priced from the plain step's speed-up" in out
    assert "memory not checked (the GPU's memory is not known" in out
