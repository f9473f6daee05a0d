"""`repro sweep sweeps/table1.yaml --dry-run` says, beside its price, what the table's seeds can decide of the paper's
claims (repro/claims/seed_power.py), before anything is trained."""

from __future__ import annotations

import pytest

from repo_paths import EVERY_SWEEP, REPO
from repro.cli import main


@pytest.mark.slow  # expands Table 1's 392 planned runs
@pytest.mark.xdist_group(EVERY_SWEEP)
def test_the_dry_run_of_table_1_says_what_its_three_seeds_can_detect(tmp_path, capsys):
    assert main(["sweep", str(REPO / "sweeps" / "table1.yaml"), "--dry-run", "--output-root", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    price = printed.index("GPU-hours")
    decide = printed.index("What 3 seed(s) per cell can decide (Table 1's claims")
    assert price < decide  # beside the price, after it
    table = printed[decide:].splitlines()
    assert table[1].startswith("| Claim") and "Detectable with 3 seeds" in table[1]
    line = next(x for x in table if x.startswith("| Ours (Instance) > Baseline") and "CIFAR100/ResNet18" in x)
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2] == "+2.10" and 0 < float(cells[3]) < 2.1 and int(cells[4]) >= 2
    assert "lines cannot be decided with 3 seeds" in printed
    assert not list(tmp_path.glob("runs/*"))  # a dry run trains and writes no run
