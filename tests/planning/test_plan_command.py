"""`repro plan` end to end on Table 1: its total within the budget, and its `repro sweep` commands, dry-run, price
the same total (within 5%)."""

from __future__ import annotations

import re
import shlex

import pytest

from repro.cli import main

TOTAL = re.compile(r"^total\s+\d+\s+(?:at least )?([0-9.]+)\s*$", re.MULTILINE)
PLANNED = re.compile(r"expected decided ([0-9.]+), ([0-9.]+) GPU-hours")
BUDGET = 100.0


@pytest.mark.slow
def test_the_plans_commands_dry_run_at_its_total(capsys, tmp_path):
    assert main(["plan", "--budget", str(BUDGET), "--tables", "1"]) == 0
    out = capsys.readouterr().out
    expected, planned = map(float, PLANNED.search(out).groups())
    assert 0 < planned <= BUDGET and expected > 0
    commands = [line for line in out.splitlines() if line.startswith("repro sweep ")]
    assert commands
    priced = 0.0
    for command in commands:
        assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(tmp_path)]) == 0
        priced += float(TOTAL.search(capsys.readouterr().out).group(1))
    assert priced == pytest.approx(planned, rel=0.05)
