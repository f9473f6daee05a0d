"""`Judge.power_at`, what the planner buys seeds by, agrees with `seeds_for`: the seeds it names are the first with
80% power."""

from __future__ import annotations

import pytest

from repro.claims.stats import POWER, Spread
from repro.claims.verdicts import DIRECTIONAL, EQUIVALENCE, LEVEL

SPREAD = Spread(cell_sds=(0.4, 0.3), coefs=(1.0, -1.0))


@pytest.mark.parametrize(("judge", "paper", "margin"), [(DIRECTIONAL, 0.5, None), (EQUIVALENCE, 0.1, 0.6)])
def test_power_crosses_80_percent_at_the_seeds_for_the_paper(judge, paper, margin):
    n = judge.seeds_for(paper, SPREAD, margin)
    assert n is not None and n > 2
    assert judge.power_at(paper, SPREAD, margin, n) >= POWER > judge.power_at(paper, SPREAD, margin, n - 1)
    powers = [judge.power_at(paper, SPREAD, margin, k) for k in range(2, n + 3)]
    assert powers == sorted(powers)


def test_no_power_without_a_contrast_to_aim_at():
    assert DIRECTIONAL.power_at(None, SPREAD, None, 5) is None
    assert LEVEL.power_at(1.0, SPREAD, None, 5) is None
    assert DIRECTIONAL.power_at(0.5, SPREAD, None, 1) == 0.0
