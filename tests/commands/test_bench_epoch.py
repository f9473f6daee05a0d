"""`repro bench`'s whole short epochs on a 1-D network: timed on MNIST-1D's signals (its data config sets the
network's length), not on digits, whose config builds a network for another input and fails at its first step."""

from __future__ import annotations

import pytest

from repro.commands.bench import bench_shape
from repro.commands.bench_epoch import epoch_costs
from repro.training.step_cost import PLAIN


@pytest.mark.slow
def test_a_signal_networks_epochs_are_timed_on_its_own_signals():
    got = epoch_costs("cnn1d", PLAIN, "cpu", batch=8, shape=bench_shape("cnn1d", 10))
    assert got is not None
    per_step, fixed = got
    assert per_step >= 0 and fixed >= 0
