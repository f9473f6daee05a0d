"""A packed sweep (`--runs-per-gpu K`) priced from a calibration's concurrency figure (fabricated here: no GPU measured
it), at K=1 where there is none, and refused when K runs do not fit the GPU's memory (repro/sweep/budget/packing.py)."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.errors import UserError
from repro.sweep.budget.calibration import Calibration, load_calibration
from repro.sweep.budget.costs import estimate, plan_estimate
from repro.sweep.budget.packing import check_fits
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
    # fabricated figures: 4 ResNet18 runs side by side do 2.5x one run's steps per second, 4 VGG16 runs 3.2x
    _calibration(
        concurrency={"resnet18": {"4": 2.5}, "vgg16": {"4": 3.2}},
        peak_memory_mb={"resnet18": 3000.0, "vgg16": 2500.0},
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
    assert "packed 4 runs per GPU: priced from the measured aggregate throughput (resnet18 x2.50, vgg16 x3.20)" in out
    assert f"{packed.total:.2f}" in out
    # K=2 was not measured: priced K=1, no speed-up assumed, and said
    assert main([*argv, "--runs-per-gpu", "2"]) == 0
    out = capsys.readouterr().out
    assert "priced K=1 (no speed-up assumed) for resnet18, vgg16" in out
    assert f"{alone.total:.2f}" in out


def _runs(plan, model: str) -> list:
    """The plan's runs of one model (for a per-model ratio)."""
    return [r for r in plan.unique.values() if r.config["model"]["name"] == model]


@pytest.mark.slow  # plans Table 1
def test_k_runs_that_do_not_fit_the_gpu_are_refused_with_the_largest_k_that_fits(tmp_path, capsys):
    cal = _calibration(peak_memory_mb={"resnet18": 30000.0, "vgg16": 12000.0}, device_memory_mb=81559.0)
    with pytest.raises(UserError, match=r"The largest K that fits every model of this sweep is 2") as refused:
        check_fits(["resnet18", "vgg16"], 4, cal, None)
    assert "resnet18's measured peak memory is 29.3 GB" in str(refused.value)
    assert check_fits(["resnet18", "vgg16"], 2, cal, None) is None
    # the profile's gpu_memory_gb is the GPU's memory where given: 40 GB holds one ResNet18 run
    with pytest.raises(UserError, match=r"is 1: give --runs-per-gpu 1"):
        check_fits(["resnet18"], 2, cal, 40)
    # nothing measured: not checked, and said
    note = check_fits(["resnet18"], 2, _calibration(), None)
    assert "memory not checked" in note and "no measured peak memory for resnet18" in note
    # the command refuses before planning anything further
    cal.save()
    argv = ["sweep", str(TABLE1), "--dry-run", "--gpu-model", "Test GPU", "--output-root", str(tmp_path / "out")]
    assert main([*argv, "--runs-per-gpu", "8"]) == 2
    assert "--runs-per-gpu 8 does not fit" in capsys.readouterr().err


def test_a_calibration_keeps_its_concurrency_figures():
    cal = _calibration(concurrency={"resnet18": {"2": 1.7}}, peak_memory_mb={"resnet18": 2100.5}, device_memory_mb=1e5)
    cal.save()
    again = load_calibration("Test GPU")
    assert (again.concurrency, again.peak_memory_mb, again.device_memory_mb) == (
        {"resnet18": {"2": 1.7}},
        {"resnet18": 2100.5},
        1e5,
    )


@pytest.mark.slow
def test_bench_concurrency_stores_what_the_dry_run_prices_a_packed_sweep_from(tmp_path, capsys):
    """Measured here, on this CPU (the figure is this device's): two processes side by side against one."""
    from presets import write_tiny_sweep

    argv = ["bench", "--device", "cpu", "--models", "smallcnn", "--kinds", "plain", "--no-epochs", "--steps", "1"]
    argv += ["--batch", "8", "--meta-batch", "8"]
    assert main([*argv, "--concurrency", "1"]) == 2  # K=1 is the reference, always measured
    assert "--concurrency 1" in capsys.readouterr().err
    assert main([*argv, "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "side by side: K=1" in out and "figures for this CPU" in out
    (stored,) = (tmp_path / "calibration").glob("cpu-*.json")
    cal = load_calibration(stored.stem)
    assert set(cal.concurrency) == {"smallcnn"} and cal.concurrency["smallcnn"]["2"] > 0
    assert cal.peak_memory_mb["smallcnn"] > 0 and cal.device_memory_mb is None  # a CPU: no device memory to fit
    sweep = write_tiny_sweep(tmp_path)
    argv = ["sweep", str(sweep), "--dry-run", "--gpu-model", cal.gpu, "--output-root", str(tmp_path / "out")]
    assert main([*argv, "--runs-per-gpu", "2"]) == 0
    out = capsys.readouterr().out
    assert f"priced from the measured aggregate throughput (smallcnn x{cal.concurrency['smallcnn']['2']:.2f})" in out
    assert "memory not checked (the GPU's memory is not known" in out
