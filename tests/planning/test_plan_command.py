"""`repro plan` end to end: its total within the budget, and its `repro sweep` commands, dry-run, price the same
total (within 5%). Table 1 has a baseline gate (its rows come with any selection); Table 4's rows share a teacher
(Table 1's tuned instance-label run), which commands cut by rows would each price."""

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
