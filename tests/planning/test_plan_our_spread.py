"""`repro plan --runs`: where finished runs of a line's cells exist (fabricated by tests/paper_runs.py, no training),
P(decision) is priced from their seed-to-seed spread, and the plan says which lines took it; elsewhere the paper's.

A one-column MNIST-1D Table 1 (the claim "Ours (Instance) > Baseline", in one line), whose paper contrast and
spread come from CIFAR-10/ResNet18 (+0.30 points, each cell's std at least one of MNIST-1D's test images): from that
spread 3 seeds decide it more often than not; our fabricated seeds differ by points, so they decide it far less
often, and the test computes by how much from the runs' values alone."""

from __future__ import annotations

import statistics

import pytest

from cpu_plan import CPU, one_line_sweeps
from paper_runs import fabricate_paper_runs
from repro.claims.decision import LineModel, Spread, c4
from repro.claims.load import load_claims
from repro.claims.seed_power import one_image
from repro.claims.stats import PAIRED
from repro.cli import main

COLUMN = "MNIST-1D/CNN1D"
CLAIM = "Ours (Instance) > Baseline"
# Our runs: the baseline at 70 points, ours at 70 plus a per-seed gain that varies by points between seeds.
GAIN = {0: 1.0, 1: 4.0, 2: -2.0}


@pytest.fixture
def sweeps(tmp_path, monkeypatch):
    return one_line_sweeps(tmp_path, monkeypatch, name="spread-plan", seeds=[0, 1, 2])


def noisy(run, table):
    return 70.0 + (GAIN[run.seed] if run.row == "Ours (Instance)" else 0.0)


def first_seed_only(run, table):
    return noisy(run, table) if run.seed == 0 else None


def paper_power(planned, seeds: int) -> float:
    """P(decision) at `seeds` from the paper's spread (each cell's std, at least one test image), as the plan prices
    a line without runs of ours (the cells' runs of one seed share their initialisation: paired)."""
    claim = next(c for c in load_claims(tables=[1]) if c.name == CLAIM)
    paper = claim.paper_difference(COLUMN)
    floor = one_image(planned[1][0].config, True)
    return LineModel(paper.spread(floor), floor, PAIRED, paper.value).decided(seeds, paper.value)


def planned_line(capsys, sweeps, runs) -> tuple[int, float, str, str]:
    """Plan the table with `runs` as the runs root: the line's (seeds, P(decision), spread) and the plan's head."""
    assert main(["plan", "--budget", "100", "--gpu", CPU, "--sweeps-dir", str(sweeps), "--runs", str(runs)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(f"| T1 {CLAIM} [{COLUMN}]"))
    cells = [part.strip() for part in row.strip("|").split("|")]
    return int(cells[2]), float(cells[4]), cells[5], out.splitlines()[0]


@pytest.mark.slow
def test_finished_runs_price_p_decision_from_their_own_spread(capsys, sweeps, tmp_path):
    runs = tmp_path / "runs-root"
    planned = fabricate_paper_runs(runs, tables=[1], value=noisy, sweeps=sweeps)
    seeds, power, spread, head = planned_line(capsys, sweeps, runs)

    assert spread == "ours (3 paired)"
    assert f"ours for the 1 of 1 lines whose cells have two or more finished runs each in {runs}" in head
    paper = next(c for c in load_claims(tables=[1]) if c.name == CLAIM).paper_difference(COLUMN).value
    sd = statistics.stdev(GAIN.values()) / c4(3)  # the paired per-seed contrasts' sd (the baseline is the same at
    # each seed), estimated without bias from its 3 seeds
    floor = one_image(planned[1][0].config, True)
    ours = LineModel(Spread((1.0, -1.0), paired_sd=sd), floor, PAIRED, paper).decided(seeds, paper)
    assert power == pytest.approx(ours, abs=0.006)  # printed to 2 digits
    assert power < paper_power(planned, seeds) - 0.3  # the spread the plan would have taken without our runs


@pytest.mark.slow
def test_lines_without_two_finished_runs_a_cell_keep_the_papers_spread(capsys, sweeps, tmp_path):
    runs = tmp_path / "runs-root"
    planned = fabricate_paper_runs(runs, tables=[1], value=first_seed_only, sweeps=sweeps)
    seeds, power, spread, head = planned_line(capsys, sweeps, runs)

    assert spread == "paper"
    assert "ours for the 0 of 1 lines whose cells have two or more finished runs each" in head
    assert power == pytest.approx(paper_power(planned, seeds), abs=0.006)
