"""What `repro plan` states it expects against the ledger's own code: the printed plan's runs fabricated (the truth
the paper's contrasts, half of them or none; the noise the plan's spread) and judged by `Line.verdict` and
`judge_claims` (repro/planning/fabricated.py). The expected decisions agree within 3% in total under each truth and
within 0.03 on each line at the paper's; the claims holding after Holm within what the simulation can tell. The
former planner stated 5.07, 10.30 and 38.96 expected decisions at 50, 200 and 1,000 GPU-hours, of which the ledger
decides 4.21, 8.91 and 34.51 (benchmarks/plan_budgets.py): those fail here. Table 4 at 50 GPU-hours in the first
tier; every table at 50, 200 and 1,000 in the second."""

from __future__ import annotations

import numpy as np
import pytest

from repro.planning.budget_plan import plan_within, price_tables
from repro.planning.expect import TRUTHS
from repro.planning.fabricated import ledger_outcomes
from repro.sweep.budget.calibration import load_calibration


def agree(plan, replicates: dict[str, int]) -> None:
    for truth in TRUTHS:
        shares, holds = ledger_outcomes(plan.judged, truth, replicates[truth.name])
        stated = np.array([j.outcomes(truth).chances for j in plan.judged])
        assert shares.sum() == pytest.approx(stated.sum(), rel=0.03), truth.name
        assert np.abs(shares.sum(axis=0) - stated.sum(axis=0)).max() < 0.03 * max(1.0, stated.sum()), truth.name
        if truth is TRUTHS[0]:
            assert np.abs(shares.sum(axis=1) - stated.sum(axis=1)).max() < 0.03
        expected = next(e for e in plan.expected if e.truth is truth)
        assert expected.holds == pytest.approx(holds, abs=0.1 + 0.05 * holds), truth.name


@pytest.mark.slow  # Table 4's plan and 1,000 fabricated ledgers of its 7 lines under each truth: 7 CPU-s
def test_a_plan_of_table_4_states_what_the_ledger_decides_of_its_runs():
    cal = load_calibration(None)
    plan = plan_within(price_tables(cal, tables=[4]), 50.0, cal)
    assert len(plan.judged) >= 5
    agree(plan, {truth.name: 1000 for truth in TRUTHS})


@pytest.mark.e2e  # every table priced, three plans, 4,000 fabricated ledgers of up to 67 lines: 99 CPU-s
@pytest.mark.parametrize("budget", [50.0, 200.0, 1000.0])
def test_the_printed_plan_states_what_the_ledger_decides_of_its_runs(budget):
    cal = load_calibration(None)
    plan = plan_within(price_tables(cal), budget, cal)
    agree(plan, {TRUTHS[0].name: 4000, TRUTHS[1].name: 1000, TRUTHS[2].name: 1000})
