"""The interval's design is fixed by what the cells' runs of one seed share (repro/claims/pairing.py), read from their
configs, never by which interval comes out narrower on the values it judges (repro/claims/judgement.py)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from repro.claims.judgement import Line, LineCell
from repro.claims.load import load_claims
from repro.claims.pairing import shared_draws
from repro.claims.stats import PAIRED, WELCH, CellSample

COLUMN = "CIFAR100/ResNet18"
SEEDS = (0, 1, 2)
# seeds that move both rows alike: the paired interval is far the narrower
CORRELATED = {"Ours (Instance)": (72.5, 74.0, 77.0), "Baseline": (70.0, 72.0, 74.0)}
# seeds that move the rows apart: Welch's is the narrower
APART = {"Ours (Instance)": (76.0, 73.0, 77.0), "Baseline": (70.0, 75.0, 72.0)}


def config(seed: int, data: str = "digits", **extra) -> dict:
    """A run's recorded config, flattened as the run frame holds it."""
    return {"seed": seed, "data.name": data, "model.name": "smallcnn", "split.seed": 0, **extra}


def line_of(values: dict, configs: dict) -> Line:
    """Table 1's "Ours (Instance) > Baseline" in one column, its cells' runs configured by `configs[row](seed)`."""
    claim = next(c for c in load_claims(tables=[1]) if c.name == "Ours (Instance) > Baseline")
    cells = tuple(LineCell(term.row, COLUMN, CellSample(term.coef, values[term.row], SEEDS)) for term in claim.terms)
    draws = shared_draws([{s: configs[cell.row](s) for s in SEEDS} for cell in cells])
    return Line(claim, COLUMN, cells, claim.paper_difference(COLUMN), claim.kind.judge, 0.01, shared_draws=draws)


def width(interval) -> float:
    return interval[1] - interval[0]


def test_runs_on_two_data_sets_are_welchs_though_the_paired_interval_is_the_narrower():
    found = line_of(CORRELATED, {"Ours (Instance)": lambda s: config(s, "mnist1d"), "Baseline": config})
    assert width(found.paired.interval()) < width(found.welch.interval())  # what choosing by width would take
    assert found.shared_draws == () and found.design is WELCH
    welch = stats.ttest_ind(CORRELATED["Ours (Instance)"], CORRELATED["Baseline"], equal_var=False)
    low, high = welch.confidence_interval(0.95)
    assert found.ours.interval() == (pytest.approx(low), pytest.approx(high))


def test_runs_sharing_a_seeds_initialisation_are_paired_though_welchs_interval_is_the_narrower():
    found = line_of(APART, {"Ours (Instance)": config, "Baseline": config})
    assert width(found.welch.interval()) < width(found.paired.interval())
    assert found.shared_draws == ("initialisation", "batches (order and augmentation)") and found.design is PAIRED
    low, high = stats.ttest_rel(APART["Ours (Instance)"], APART["Baseline"]).confidence_interval(0.95)
    assert found.ours.interval() == (pytest.approx(low), pytest.approx(high))


def test_another_network_shares_the_batches_but_not_the_initialisation():
    found = line_of(APART, {"Ours (Instance)": lambda s: {**config(s), "model.name": "resnet18"}, "Baseline": config})
    assert found.shared_draws == ("batches (order and augmentation)",) and found.design is PAIRED


def test_a_difference_of_gains_on_two_data_sets_pairs_each_gains_runs():
    """Each cell's runs share a seed's draws with another cell's (its gain's other row), not with every cell."""
    cifar100 = {s: config(s, "cifar100") for s in SEEDS}
    cifar10 = {s: config(s, "cifar10") for s in SEEDS}
    assert shared_draws([cifar100, cifar100, cifar10, cifar10]) == (
        "initialisation",
        "batches (order and augmentation)",
    )
    assert shared_draws([cifar100, cifar10]) == ()  # one run on each: nothing shared
    assert shared_draws([cifar100, cifar100, cifar10]) == ()  # the CIFAR-10 cell shares nothing


def test_a_seed_key_tied_to_the_seed_is_shared_and_one_fixed_for_every_run_is_not():
    tied = {s: config(s, **{"split.seed": s, "noise.seed": s, "noise.name": "uniform"}) for s in SEEDS}
    assert "meta split and folds" in shared_draws([tied, tied]) and "noise pattern" in shared_draws([tied, tied])
    fixed = {s: config(s, **{"noise.seed": 0, "noise.name": "uniform"}) for s in SEEDS}
    assert not {"meta split and folds", "noise pattern"} & set(shared_draws([fixed, fixed]))  # one draw for all
    other_noise = {s: {**tied[s], "noise.name": "pair"} for s in SEEDS}  # tied noise seeds, two noise models
    assert "noise pattern" not in shared_draws([tied, other_noise])


def test_a_run_frames_empty_cell_is_no_draw_and_cells_without_two_shared_seeds_pair_nothing():
    frame_row = {s: config(s, **{"noise.seed": math.nan}) for s in SEEDS}  # a clean run in a frame of noisy ones
    assert "noise pattern" not in shared_draws([frame_row, frame_row])
    one_shared = {2: config(2), 3: config(3)}
    assert shared_draws([{s: config(s) for s in SEEDS}, one_shared]) == ()
    seeded_apart = {s: config(s + 100) for s in SEEDS}  # a row whose runs' seeds are not the planned seeds
    assert shared_draws([{s: config(s) for s in SEEDS}, seeded_apart]) == ()
