"""benchmarks/price_rounds.py's arithmetic on fabricated rounds: the log-normal fit of each kind's est/measured, the
odds that the median of several rounds is past the price test's bounds (against a simulation of that median), and
its report. The rounds themselves are the price test's (test_benchmark_price_matches_run.py, second tier)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import price_rounds
from benchmarks.price_rounds import ON_CPU, log_fit, odds_median_outside, report
from repro.training.step_cost import PLAIN, TWO_NETWORKS


def _rounds(ratios: dict, measured: float = 2.0) -> list[price_rounds.Priced]:
    """Rounds whose kinds' est/measured are `ratios` (kind -> one ratio per round)."""
    count = len(next(iter(ratios.values())))
    return [{kind: (r[i] * measured, measured) for kind, r in ratios.items()} for i in range(count)]


def test_the_fit_is_the_mean_and_sample_deviation_of_the_log_ratios():
    fits = log_fit(_rounds({PLAIN: [1.0, math.e, math.e**2], TWO_NETWORKS: [0.5, 0.5, 0.5]}))
    assert fits[PLAIN] == pytest.approx((1.0, 1.0))
    assert fits[TWO_NETWORKS] == pytest.approx((math.log(0.5), 0.0))


@pytest.mark.parametrize("rounds", [1, 3, 5])
def test_the_odds_of_the_median_past_a_bound_are_what_a_simulation_of_it_finds(rounds):
    fits = {PLAIN: (0.2, 0.15), TWO_NETWORKS: (-0.1, 0.25)}
    draws = 400_000
    gen = np.random.default_rng(0)
    past = np.zeros(draws, dtype=bool)
    for mean, sd in fits.values():
        median = np.median(np.exp(gen.normal(mean, sd, size=(draws, rounds))), axis=1)
        past |= (median < ON_CPU[0]) | (median > ON_CPU[1])
    odds = odds_median_outside(fits, ON_CPU, rounds)
    assert past.mean() == pytest.approx(odds, abs=4 * math.sqrt(odds * (1 - odds) / draws) + 1e-5)
    assert odds_median_outside(fits, ON_CPU, rounds + 2) < odds  # more rounds, a median further from the bounds


def test_a_ratio_far_past_a_bound_makes_the_median_past_it_whatever_the_rounds():
    assert odds_median_outside({PLAIN: (math.log(3.0), 0.05)}, ON_CPU, 5) == pytest.approx(1.0)
    assert odds_median_outside({PLAIN: (0.0, 0.01)}, ON_CPU, 1) == pytest.approx(0.0, abs=1e-12)


def test_the_report_shows_every_round_the_fit_and_the_odds_of_each_median():
    text = report(_rounds({PLAIN: [0.9, 1.1, 1.25], TWO_NETWORKS: [1.0, 1.2, 0.8]}))
    assert "1.250" in text and "0.800" in text
    assert "fit" in text and all(f"median of {n}:" in text for n in (1, 3, 5, 7))


def test_fewer_than_two_rounds_is_refused_before_any_is_taken(capsys):
    with pytest.raises(SystemExit) as stop:
        price_rounds.main(["--rounds", "1"])
    assert stop.value.code == 2
    assert "at least 2" in capsys.readouterr().err
