"""The ledger of a sweep run until decided gives each line one verdict, the design's, read from the sweep's record
(sequential.json) and never judged again: fabricated rounds of three of Table 6's rows on digits (the sweep and its
helpers of test_until_decided.py), the stage's own record, then the ledger. No training."""

from __future__ import annotations

import math

from test_until_decided import BASELINE, MWNET, SCALE, finish, plan, sweep  # noqa: F401  (sweep: the fixture)

from analysis.collect import collect_runs
from analysis.ledger.build import Ledger, build_ledger
from analysis.ledger.render import claims_table, render_csv, render_markdown
from repro.claims.load import load_claims
from repro.claims.sequential_record import DECIDED, UNDECIDED, read_record
from repro.claims.verdicts import CONSISTENT, INCONCLUSIVE, NOT_REPRODUCED, NOT_YET_DECIDED, SMALLER
from repro.sweep.sweep_folder import sweep_dir

COLUMN = "Digits/40%"
# every row moves about 2 points a seed alike; Ours - Baseline: 5.0, 6.0 at the sweep's two seeds, the paper's
# +20.45 outside the first look's repeated interval: decided "not reproduced" there, and no further seed of Baseline
BASELINE_RUNS = {0: 60.0, 1: 61.2}
OURS_RUNS = {0: 65.0, 1: 67.2, 2: 69.0, 3: 71.1}


def ledger_of_rounds(spec, out, mwnet_gains: tuple[float, ...]) -> tuple[Ledger, dict]:
    """Every round's runs done (Ours - MWNet = `mwnet_gains` at seeds 0-3), the stage's record, then the ledger."""
    values = {("Baseline", s): v for s, v in BASELINE_RUNS.items()}
    values |= {("Ours (setting A)", s): v for s, v in OURS_RUNS.items()}
    values |= {("MWNet", s): OURS_RUNS[s] - gain for s, gain in enumerate(mwnet_gains)}
    finish(plan(spec, out), values, out)
    plan(spec, out, record=True)  # the stage walks its looks and keeps what it decided in sequential.json
    _, records = read_record(sweep_dir(out.resolve(), spec.name))
    claims = [c for c in load_claims(tables=[6]) if c.name in (BASELINE, MWNET)]
    ledger = build_ledger(collect_runs(out), {6: spec}, claims, output_root=out.resolve(), scales={6: SCALE})
    return ledger, records


def lines_of(ledger: Ledger) -> dict:
    return {line.claim.name: line for line in ledger.lines}


def test_a_decided_line_shows_the_designs_decision_and_an_undecided_one_says_inconclusive(sweep):
    spec, out = sweep
    ledger, records = ledger_of_rounds(spec, out, (0.5, 1.0, 1.0, 1.5))
    decided, undecided = records[(6, BASELINE, COLUMN)], records[(6, MWNET, COLUMN)]
    assert (decided.state, decided.seeds, decided.look) == (DECIDED, 2, 1)
    assert (undecided.state, undecided.seeds, undecided.look) == (UNDECIDED, 4, 3)
    lines = lines_of(ledger)
    baseline, mwnet = lines[BASELINE], lines[MWNET]
    # the fixed-sample 95% intervals over the seeds the design stopped at say otherwise: Welch's over Ours' 4 seeds
    # and Baseline's 2 is "smaller than the paper's"; the paired one over 4 seeds holds the paper's +1.55, not 0
    fixed = [line.judge.verdict(line.ours, line.paper.value, line.paper.side, None) for line in (baseline, mwnet)]
    assert fixed == [SMALLER, CONSISTENT]
    assert (baseline.verdict, mwnet.verdict) == (NOT_REPRODUCED, INCONCLUSIVE)  # one verdict per line: the design's
    assert (baseline.p_value, mwnet.p_value) == (decided.p, undecided.p)
    assert baseline.other_verdict is None and mwnet.other_verdict is None
    markdown = render_markdown(ledger)
    assert "| not reproduced; decided at 2 seeds (look 1 of 3; its repeated interval [-5.06, +16.06])" in markdown
    assert "| inconclusive; undecided at 4 seeds, the most (look 3 of 3; its repeated interval" in markdown
    assert "Lines: 1 not reproduced, 1 inconclusive." in markdown  # the headline counts the design's verdicts
    assert str(CONSISTENT) not in claims_table(ledger) and str(SMALLER) not in markdown
    csv = render_csv(ledger)
    assert ",not reproduced,," in csv and ",inconclusive,," in csv


def test_a_claim_decided_on_the_papers_side_that_holm_does_not_hold_says_why(sweep):
    spec, out = sweep
    ledger, records = ledger_of_rounds(spec, out, (1.0, 1.0, 1.0, 1.0))  # decided at its last look, on the paper's side
    mwnet = records[(6, MWNET, COLUMN)]
    assert (mwnet.state, mwnet.seeds, mwnet.verdict) == (DECIDED, 4, str(CONSISTENT)) and 0.0125 < mwnet.p < 0.025
    claim = next(j for j in ledger.claims if j.claim.name == MWNET)
    assert claim.verdict == str(CONSISTENT) and claim.holds is False  # Holm over two tests doubles the smaller p
    why = f"no: its own p {mwnet.p:.3g} passes 0.025, but not after Holm's correction"
    assert claim.holds_text() == why
    row = next(r for r in claims_table(ledger).splitlines() if MWNET in r)
    assert str(CONSISTENT) in row and why in row


def test_a_line_whose_next_look_waits_is_not_yet_decided_nor_tested(sweep):
    spec, out = sweep
    values = {("Baseline", s): v for s, v in BASELINE_RUNS.items()}
    values |= {("Ours (setting A)", s): OURS_RUNS[s] for s in (0, 1)}
    values |= {("MWNet", s): OURS_RUNS[s] - 1.8 for s in (0, 1)}  # undecided at 2 seeds: round 2 is let go
    finish(plan(spec, out), values, out)
    plan(spec, out, record=True)
    claims = [c for c in load_claims(tables=[6]) if c.name in (BASELINE, MWNET)]
    ledger = build_ledger(collect_runs(out), {6: spec}, claims, output_root=out.resolve(), scales={6: SCALE})
    mwnet = lines_of(ledger)[MWNET]
    assert mwnet.verdict is NOT_YET_DECIDED and math.isnan(mwnet.p_value)
    claim = next(j for j in ledger.claims if j.claim.name == MWNET)
    assert claim.holds is None and claim.holds_text() == "not tested: seeds are still being added until decided"
    markdown = render_markdown(ledger)
    assert "| not yet decided; seeds added until decided: look 2 of 3 waits for 3 seeds per cell" in markdown
    assert "1 line(s) not yet decided, their next look waiting for its seeds, are not tested" in markdown
