"""`repro plan` on a CPU's calibration and another sweeps directory (MNIST-1D's, as docs/budget.md measures it): the
plan reads the directory's tableN.yaml, speaks in CPU-hours, and its `repro sweep` commands name the calibration, so
that their dry runs, priced by it, add up to the plan's total."""

from __future__ import annotations

import re
import shlex

import pytest

from repro.cli import main
from repro.sweep.budget.calibration import Calibration, cpu_calibration_name
from repro.sweep.budget.clock import CPU_CLOCK

TOTAL = re.compile(r"^total\s+\d+\s+(?:at least )?([0-9.]+)\s*$", re.MULTILINE)
PLANNED = re.compile(r"([0-9.]+) CPU-hours as the commands below dry-run \(([0-9.]+) trained")
# A one-column Table 1 on MNIST-1D: the claim "Ours (Instance) > Baseline" in one line, 4 runs at 2 seeds.
SWEEP = """
name: cpu-plan
table: 1
metric: final_test_acc
seeds: [0, 1]
common: [data=mnist1d, model=cnn1d, split=holdout, optim.epochs=4]
columns:
  MNIST-1D/CNN1D: []
rows:
  Baseline: [method=baseline]
  Ours (Instance): [method=instance_labels]
"""
CPU = cpu_calibration_name(1)
# Fabricated figures, large enough that every run prices in hundredths of an hour (the dry run prints 2 digits).
STEPS_MS = {"plain": 2000.0, "meta": 9000.0}
SIGNAL = [1, 1, 40, 10]  # timed at MNIST-1D's input, as `repro bench` times a 1-D network: priced without scaling


@pytest.fixture
def sweeps(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))
    Calibration(CPU, 128, {"cnn1d": STEPS_MS}, {"cnn1d": 1.0}, "fabricated", {"cnn1d": SIGNAL}, clock=CPU_CLOCK).save()
    folder = tmp_path / "sweeps"
    folder.mkdir()
    (folder / "table1.yaml").write_text(SWEEP)
    return folder


@pytest.mark.slow
def test_a_cpu_budget_plans_another_sweeps_directory_and_its_commands_dry_run_at_its_total(capsys, sweeps, tmp_path):
    assert main(["plan", "--budget", "100", "--gpu", CPU, "--sweeps-dir", str(sweeps)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Plan for 100.00 CPU-hours ({CPU}, fabricated, timed on the process's CPU time)")
    planned, trained = map(float, PLANNED.search(out).groups())
    assert 0 < planned <= 100 and planned == trained
    commands = [line for line in out.splitlines() if line.startswith("repro sweep ")]
    assert commands and all(str(sweeps / "table1.yaml") in c and f"--gpu-model {CPU}" in c for c in commands)
    priced = 0.0
    for command in commands:
        assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(tmp_path / "out")]) == 0
        got = capsys.readouterr().out
        assert f"per-step costs: {CPU}, fabricated, timed on the process's CPU time" in got
        priced += float(TOTAL.search(got).group(1))
    assert priced == pytest.approx(planned, rel=0.05)


def test_a_sweeps_directory_without_a_table_of_claims_is_refused(capsys, tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    assert main(["plan", "--budget", "1", "--sweeps-dir", str(empty)]) == 2
    assert "holds no sweep file of a table with a claim" in capsys.readouterr().err
