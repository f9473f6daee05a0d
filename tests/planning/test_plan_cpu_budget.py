"""`repro plan` on a CPU's calibration and another sweeps directory (MNIST-1D's, as docs/budget.md measures it): the
plan reads the directory's tableN.yaml, speaks in CPU-hours, and its `repro sweep` commands name the calibration, so
that their dry runs, priced by it, add up to the plan's total."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

from cpu_plan import CPU, TOTAL, one_line_sweeps
from repo_paths import REPO
from repro.cli import main

PLANNED = re.compile(r"([0-9.]+) CPU-hours as the commands below dry-run \(([0-9.]+) trained")


@pytest.fixture
def sweeps(tmp_path, monkeypatch):
    return one_line_sweeps(tmp_path, monkeypatch, name="cpu-plan", seeds=[0, 1, 2])


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


def test_by_default_the_tables_without_a_paper_number_are_not_planned(capsys, tmp_path):
    """Lukasik et al.'s claims (Tables 11-13) have no paper number to aim seeds at: `repro plan` with no --tables
    leaves their sweep files alone (Table 13's expansion alone is thousands of configs) rather than plan them only to
    skip every line."""
    only_theirs = tmp_path / "lukasik"
    only_theirs.mkdir()
    for name in ("table12.yaml", "table13.yaml"):
        shutil.copy(REPO / "sweeps" / name, only_theirs / name)
    assert main(["plan", "--budget", "1", "--sweeps-dir", str(only_theirs)]) == 2
    err = capsys.readouterr().err
    assert "holds no sweep file of a table with a claim (tableN.yaml for N in 1 2 3 4 5 6 7 8)" in err
