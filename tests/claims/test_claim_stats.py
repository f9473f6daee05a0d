"""The statistics that judge a claim (repro/claims/stats.py, verdicts.py), each checked against scipy's own tests or
against its definition: paired and Welch intervals (scipy.stats.ttest_rel / ttest_ind), a difference of differences,
the one-test-image floor, two one-sided tests, the verdicts, and Holm's step-down (one list, or many rows at once).
What a test will decide before its runs is repro/claims/decision.py's (tests/claims/test_decision.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from repro.claims.decision import estimated_detectable
from repro.claims.stats import (
    PAIRED,
    WELCH,
    CellSample,
    holm,
    holm_rows,
    paired_estimate,
    summary_estimate,
    welch_estimate,
)
from repro.claims.verdicts import (
    CONSISTENT,
    DIRECTIONAL,
    EQUIVALENCE,
    EQUIVALENCE_UNDECIDABLE,
    EQUIVALENT,
    INCONCLUSIVE,
    LARGER,
    LEVEL,
    NOT_EQUIVALENT,
    NOT_REPRODUCED,
    OPPOSITE,
    SMALLER,
    UNDETECTABLE,
)

BETTER = (72.5, 74.0, 77.0)
WORSE = (70.0, 72.0, 74.0)


def cells(better=BETTER, worse=WORSE, seeds=(0, 1, 2), worse_seeds=None):
    return [CellSample(1.0, better, seeds), CellSample(-1.0, worse, worse_seeds or seeds)]


def test_paired_and_welch_intervals_are_scipys():
    paired = paired_estimate(cells(), floor=0.0)
    low, high = stats.ttest_rel(BETTER, WORSE).confidence_interval(0.95)
    assert paired.design is PAIRED and paired.interval() == (pytest.approx(low), pytest.approx(high))
    welch = welch_estimate(cells(), floor=0.0)
    low, high = stats.ttest_ind(BETTER, WORSE, equal_var=False).confidence_interval(0.95)
    assert welch.design is WELCH and welch.interval() == (pytest.approx(low), pytest.approx(high))
    assert paired.p_one_sided(1) == pytest.approx(stats.ttest_rel(BETTER, WORSE, alternative="greater").pvalue)


def test_an_interaction_pairs_the_four_cells_by_seed():
    a, b, c, d = (80.0, 81.0, 83.0), (77.0, 77.5, 79.0), (75.0, 75.5, 76.5), (74.0, 74.8, 75.1)
    samples = [CellSample(1.0, a, (0, 1, 2)), CellSample(-1.0, b, (0, 1, 2)), CellSample(-1.0, c, (0, 1, 2)),
               CellSample(1.0, d, (0, 1, 2))]  # fmt: skip
    contrasts = [w - x - y + z for w, x, y, z in zip(a, b, c, d)]
    low, high = stats.ttest_1samp(contrasts, 0.0).confidence_interval(0.95)
    assert paired_estimate(samples, floor=0.0).interval() == (pytest.approx(low), pytest.approx(high))


def test_equal_per_seed_differences_still_give_an_interval_of_positive_width():
    image = 100.0 / 539  # one digits test image, in points
    estimate = paired_estimate(cells((71.0, 73.0, 75.0), WORSE), floor=image)
    low, high = estimate.interval()
    assert estimate.floored and low < 1.0 < high
    assert high - low == pytest.approx(2 * stats.t.ppf(0.975, 2) * image / math.sqrt(3))
    welch = welch_estimate(cells((71.0, 71.0, 71.0), (70.0, 70.0, 70.0)), floor=image)
    assert welch.floored and welch.interval()[1] - welch.interval()[0] > 0
    assert summary_estimate([1, -1], [93.9, 93.9], [0.0, 0.0], [3, 3], floor=[0.05, 0.05]).se > 0


def test_paired_needs_two_shared_seeds_and_a_seed_twice_pairs_nothing():
    assert paired_estimate(cells(worse_seeds=(2, 3, 4)), floor=0.0) is None  # one seed shared
    assert paired_estimate([CellSample(1.0, (1.0, 2.0), (0, 0)), CellSample(-1.0, (0.0, 1.0), (0, 1))], 0.0) is None


def test_two_one_sided_tests_are_two_scipy_one_sided_tests():
    diffs = [0.10, -0.05, 0.20, 0.05]
    estimate = paired_estimate(
        [CellSample(1.0, tuple(diffs), (0, 1, 2, 3)), CellSample(-1.0, (0,) * 4, (0, 1, 2, 3))], 0
    )
    margin = 0.5
    above = stats.ttest_1samp(diffs, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(diffs, margin, alternative="less").pvalue
    assert estimate.p_equivalence(margin) == pytest.approx(max(above, below))
    assert EQUIVALENCE.verdict(estimate, 0.1, 1, margin) is EQUIVALENT
    assert EQUIVALENCE.verdict(estimate, 0.1, 1, 0.05) is EQUIVALENCE_UNDECIDABLE  # below what 4 seeds can show
    far = paired_estimate([CellSample(1.0, (2.0, 2.1, 1.9), (0, 1, 2)), CellSample(-1.0, (0,) * 3, (0, 1, 2))], 0.0)
    assert EQUIVALENCE.verdict(far, 0.0, 1, margin) is NOT_EQUIVALENT


def test_directional_verdicts_read_the_paper_difference_against_our_interval():
    ours = paired_estimate(cells(), floor=0.0)  # +2.5 [1.26, 3.74]
    assert DIRECTIONAL.verdict(ours, 2.1, 1, None) is CONSISTENT
    assert DIRECTIONAL.verdict(ours, 5.0, 1, None) is SMALLER
    assert DIRECTIONAL.verdict(ours, 0.5, 1, None) is LARGER
    assert DIRECTIONAL.verdict(ours, -1.0, -1, None) is OPPOSITE
    noisy = paired_estimate(cells((71.0, 71.0, 74.5)), floor=0.0)  # +0.17, wide
    assert DIRECTIONAL.verdict(noisy, 0.8, 1, None) is UNDETECTABLE  # 0.8 is below what 3 such seeds detect
    assert estimated_detectable(noisy) > 0.8
    six = tuple(range(6))  # +1.00 [-0.20, +2.20] over 6 paired seeds, which detect 1.72
    wide = paired_estimate(cells((71.0, 74.5, 72.0, 75.0, 71.0, 73.5), (70.0, 72.0, 72.5, 73.0, 71.0, 72.5), six), 0.0)
    detectable = estimated_detectable(wide)
    assert DIRECTIONAL.verdict(wide, detectable * 1.01, 1, None) is INCONCLUSIVE  # inside the interval, detectable
    assert DIRECTIONAL.verdict(wide, detectable * 0.9, 1, None) is UNDETECTABLE
    assert DIRECTIONAL.verdict(noisy, 9.0, 1, None) is NOT_REPRODUCED  # outside the interval, however weak the seeds
    tight = paired_estimate(cells((70.1, 72.0, 73.9)), floor=0.0)  # ~0, narrow: the paper's +2.1 is excluded
    assert DIRECTIONAL.verdict(tight, 2.1, 1, None) is NOT_REPRODUCED
    assert LEVEL.verdict(welch_estimate([CellSample(1.0, (89.0, 90.0, 91.0), (0, 1, 2))], 0.0), 90.0, 1, None).tone \
        == "agrees"  # fmt: skip


def test_holm_is_the_step_down_correction_and_skips_untested():
    assert holm([0.01, 0.04, 0.03, math.nan]) == pytest.approx([0.03, 0.06, 0.06, math.nan], nan_ok=True)
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    rows = np.array([[0.01, 0.04, 0.03, math.nan], [0.5, math.nan, 0.001, 0.2]])
    expected = [[0.03, 0.06, 0.06, math.nan], [0.5, math.nan, 0.003, 0.4]]
    assert np.allclose(holm_rows(rows), expected, equal_nan=True)
