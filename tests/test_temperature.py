"""Temperature scaling (hand-made logits and labels, T = 0), the search grid, and the choice of T on validation
accuracy, never on test (repro/temperature.py)."""

from __future__ import annotations

import math

import pytest
import torch

from repro.config import load_config, to_container
from repro.errors import UserError
from repro.rundir import RunDir
from repro.temperature import (check_temperature, choose_temperature, scale_logits, scale_probabilities,
                               search_grid, search_run_configs, searched_temperature)


def test_scale_logits_is_softmax_of_logits_over_t():
    z = torch.tensor([[2.0, 0.0, -2.0]])
    e = [math.exp(v / 2) for v in (2.0, 0.0, -2.0)]
    assert torch.allclose(scale_logits(z, 2.0), torch.tensor([[v / sum(e) for v in e]]))
    assert torch.allclose(scale_logits(z, 1.0), torch.softmax(z, 1))


def test_scale_probabilities_by_hand():
    p = torch.tensor([[0.5, 0.3, 0.2, 0.0]])
    for t in (0.5, 1.0, 2.0, 10.0):
        powered = [v ** (1 / t) for v in (0.5, 0.3, 0.2)] + [0.0]
        want = torch.tensor([[v / sum(powered) for v in powered]])
        got = scale_probabilities(p, t)
        assert torch.allclose(got, want, atol=1e-6), t
        assert got[0, 3] == 0  # a class with no mass stays at zero at every temperature
    assert torch.allclose(scale_probabilities(p, 1.0), p)  # T = 1 leaves the labels as they are


def test_scaling_logits_equals_scaling_their_softmax():
    torch.manual_seed(0)
    z = torch.randn(5, 7) * 3
    for t in (0.25, 1.0, 3.5):
        assert torch.allclose(scale_logits(z, t), scale_probabilities(torch.softmax(z, 1), t), atol=1e-5)


def test_zero_temperature_is_the_arg_max_one_hot():
    z = torch.tensor([[0.1, 3.0, 2.9], [5.0, 5.0, -1.0]])  # second row: a tie goes to the first class
    want = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert torch.equal(scale_logits(z, 0.0), want)
    assert torch.equal(scale_probabilities(torch.softmax(z, 1), 0.0), want)


def test_grid_and_bad_temperatures():
    assert search_grid({"start": 0, "stop": 10, "step": 0.25}) == [i * 0.25 for i in range(41)]
    assert search_grid({"start": 0, "stop": 8, "step": 2}) == [0, 2, 4, 6, 8]
    for bad in ({"start": 0, "stop": 1, "step": 0}, {"start": -1, "stop": 1, "step": 1}, {"start": 2, "stop": 1,
                                                                                          "step": 1}, None):
        with pytest.raises(UserError, match="temperature grid"):
            search_grid(bad)
    assert check_temperature("search", "t") == "search" and check_temperature(0, "t") == 0.0
    for bad in (-0.25, "warm", float("nan"), True):
        with pytest.raises(UserError, match="must be a number >= 0"):
            check_temperature(bad, "method.temperature")
    with pytest.raises(UserError, match="method.temperature=-1"):
        load_config(["method=distillation", "method.temperature=-1"])


def test_ties_go_to_the_smaller_temperature():
    assert choose_temperature({0.0: 0.5, 2.0: 0.9, 4.0: 0.9, 6.0: 0.1}) == 2.0


def _fake_done(cfg: dict, **summary) -> None:
    rd = RunDir.for_config(cfg)
    rd.path.mkdir(parents=True)
    rd.write_config(cfg)
    rd.write_summary(summary)


def test_search_picks_the_validation_winner_even_when_test_disagrees(tmp_path):
    final = to_container(load_config(["method=distillation", "split=full", "method.temperature=search",
                                      "method.search.stop=3.0", "method.search.step=1.0", "method.teacher=t",
                                      f"output_root={tmp_path}"]))
    runs = search_run_configs(final)
    assert [t for t, _ in runs] == [0.0, 1.0, 2.0, 3.0]
    for t, cfg in runs:  # search runs train on the held-out split, fold 0, at their temperature
        assert cfg["split"]["full_train"] is False and cfg["split"]["fold"] == 0
        assert cfg["method"]["temperature"] == t
    # validation prefers T=2, test prefers T=3: the choice must follow validation
    val = {0.0: 0.80, 1.0: 0.85, 2.0: 0.90, 3.0: 0.70}
    test = {0.0: 0.80, 1.0: 0.85, 2.0: 0.60, 3.0: 0.99}
    with pytest.raises(UserError, match="4 search runs, but 4 are not finished"):
        searched_temperature(final)
    for t, cfg in runs:
        _fake_done(cfg, final_val_acc=val[t], final_test_acc=test[t], test_acc_at_best_val=test[t])
    assert searched_temperature(final) == (2.0, val)
