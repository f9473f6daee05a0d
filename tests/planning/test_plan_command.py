"""`repro plan` end to end: its total within the budget, and its `repro sweep` commands, dry-run, price the same
total (within 5%). Table 1 has a baseline gate (its rows come with any selection); Table 4's rows share a teacher
(Table 1's tuned instance-label run), which commands cut by rows would each price. With `--until-decided`, Table 8 at
60 GPU-hours buys its comparable lines' seeds until decided: its command carries the flag, and its dry run prices the
further rounds at their chance as the plan did."""

from __future__ import annotations

import re
import shlex

import pytest

from repro.cli import main

TOTAL = re.compile(r"^total\s+\d+\s+(?:at least )?([0-9.]+)\s*$", re.MULTILINE)
PLANNED = re.compile(
    r"expected decided ([0-9.]+), ([0-9.]+) GPU-hours as the commands below dry-run \(([0-9.]+) trained"
)
BUDGET = 100.0


@pytest.mark.slow
@pytest.mark.parametrize("table", ["1", "4"])
def test_the_plans_commands_dry_run_at_its_total(capsys, tmp_path, table):
    assert main(["plan", "--budget", str(BUDGET), "--tables", table]) == 0
    out = capsys.readouterr().out
    expected, planned, trained = map(float, PLANNED.search(out).groups())
    assert 0 < planned <= BUDGET and expected > 0
    assert planned == trained  # no run priced by two commands: the rows sharing a teacher go in one
    commands = [line for line in out.splitlines() if line.startswith("repro sweep ")]
    assert commands
    priced = 0.0
    for command in commands:
        assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(tmp_path)]) == 0
        priced += float(TOTAL.search(capsys.readouterr().out).group(1))
    assert priced == pytest.approx(planned, rel=0.05)


@pytest.mark.slow
def test_a_plan_counting_on_seeds_until_decided_prints_the_flag_its_dry_run_prices(capsys, tmp_path):
    assert main(["plan", "--budget", "60", "--tables", "8", "--until-decided", "--runs", str(tmp_path / "no")]) == 0
    out = capsys.readouterr().out
    _, planned, _ = map(float, PLANNED.search(out).groups())
    commands = [line for line in out.splitlines() if line.startswith("repro sweep ")]
    assert any(c.endswith("--until-decided") for c in commands) and "until decided |" in out
    priced = 0.0
    for command in commands:
        assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(tmp_path)]) == 0
        priced += float(TOTAL.search(capsys.readouterr().out).group(1))
    assert 0 < planned <= 60
    assert priced == pytest.approx(planned, rel=0.05)
