"""`repro plan --until-decided`: where buying a line's seeds until decided gives the most expected decisions within
the budget, the plan counts on it, prints its `repro sweep` command with `--until-decided`, and that command's dry run
prices the plan's total (within 5%: each further round at its chance of being needed); where the budget buys only
fixed seeds, no command carries the flag.

A one-column MNIST-1D Table 1 (the claim "Ours (Instance) > Baseline", in one line) whose paper contrast, +0.30
points against stds of one test image, 3 fixed seeds decide less often than seeds added until decided (up to 10)."""

from __future__ import annotations

import re
import shlex

import pytest

from cpu_plan import CPU, TOTAL, one_line_sweeps
from repro.cli import main

PLANNED = re.compile(r"expected decided ([0-9.]+), ([0-9.]+) CPU-hours as the commands below dry-run")


@pytest.fixture
def sweeps(tmp_path, monkeypatch):
    return one_line_sweeps(tmp_path, monkeypatch, name="rounds-plan", seeds=[0, 1, 2])


def plan(capsys, sweeps, tmp_path, budget: float) -> tuple[float, float, list[str], str]:
    argv = ["plan", "--budget", str(budget), "--gpu", CPU, "--sweeps-dir", str(sweeps), "--until-decided"]
    assert main([*argv, "--runs", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    expected, planned = map(float, PLANNED.search(out).groups())
    return expected, planned, [line for line in out.splitlines() if line.startswith("repro sweep ")], out


def dry_run_total(capsys, command: str, root) -> float:
    assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(root)]) == 0
    return float(TOTAL.search(capsys.readouterr().out).group(1))


@pytest.mark.slow
def test_a_plan_counting_on_seeds_until_decided_prints_the_flag_and_its_dry_run_prices_it(capsys, sweeps, tmp_path):
    expected, planned, commands, out = plan(capsys, sweeps, tmp_path, 100)
    assert "| 2-10 until decided |" in out
    assert len(commands) == 1 and commands[0].endswith("--seeds 0 1 --until-decided --gpu-model " + CPU)
    assert 0 < planned <= 100
    assert dry_run_total(capsys, commands[0], tmp_path / "out") == pytest.approx(planned, rel=0.05)

    fixed, _, fixed_commands, _ = plan(capsys, sweeps, tmp_path, planned * 0.55)  # 3 fixed seeds, not the rounds
    assert fixed_commands and not any("--until-decided" in c for c in fixed_commands)
    assert expected > fixed  # what the rounds were bought for
