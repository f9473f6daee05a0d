"""`repro bench`'s whole short epochs (repro/commands/bench_epoch.py): they train the step the isolated timing took,
at its batch and meta batch as the run's config resolves them, at both lengths; and a 1-D network is timed on
MNIST-1D's signals (its data config sets the network's length), not on digits, whose config builds a network for
another input and fails at its first step."""

from __future__ import annotations

import pytest

from repro.commands import bench_epoch
from repro.commands.bench_epoch import epoch_costs, run_hardware
from repro.commands.step_timing import bench_shape
from repro.training.hardware import Hardware
from repro.training.step_cost import LABEL_LOOKAHEAD, PLAIN


@pytest.mark.slow
def test_a_look_ahead_epoch_draws_the_isolated_steps_meta_batch_at_both_lengths(monkeypatch):
    """A meta set that is a share of the data gave the short epoch a smaller meta batch than the long one (96 and
    256 images at batch 128): the slope between them priced the difference as a step's cost, x1.2-1.4."""
    trained: list[tuple[int, int, int]] = []  # (steps, batch, meta batch) of each epoch

    def seconds(run, clock):
        batches = run.exp.batches
        trained.append((run.steps, batches.train.batch_size, batches.meta_batch))
        return 0.05 * run.steps + 0.2  # 50 ms a step, 200 ms an epoch

    def isolated(model_name, hw, *, batch, meta_batch, kinds, **_):
        trained.append((0, batch, meta_batch))
        return {kinds[0].key: 40.0}  # 40 ms alone

    monkeypatch.setattr(bench_epoch._EpochRun, "seconds", seconds)
    monkeypatch.setattr(bench_epoch, "measure", isolated)
    shape = bench_shape("smallcnn", 10)
    got = epoch_costs("smallcnn", LABEL_LOOKAHEAD, run_hardware("cpu"), batch=128, meta_batch=256, shape=shape, steps=5)
    assert {t[1:] for t in trained} == {(128, 256)} and len({t[0] for t in trained}) == 3  # alone, short, long
    assert (got.batch, got.meta_batch) == (128, 256)
    assert got.step_ratio == pytest.approx(50.0 / 40.0) and got.fixed_ms == pytest.approx(200.0)


def test_epochs_on_other_hardware_than_the_isolated_steps_are_refused(monkeypatch):
    monkeypatch.setattr(bench_epoch._EpochRun, "seconds", lambda run, clock: 1.0)
    other = Hardware(run_hardware("cpu").device, channels_last=not run_hardware("cpu").channels_last)
    with pytest.raises(RuntimeError, match="would price two different steps"):
        epoch_costs("smallcnn", PLAIN, other, batch=16, meta_batch=16, shape=bench_shape("smallcnn", 10), steps=2)


@pytest.mark.slow
def test_a_signal_networks_epochs_are_timed_on_its_own_signals():
    shape = bench_shape("cnn1d", 10)
    got = epoch_costs("cnn1d", PLAIN, run_hardware("cpu"), batch=8, meta_batch=8, shape=shape, steps=2)
    assert got is not None
    assert got.step_ratio >= 0 and got.fixed_ms >= 0 and (got.batch, got.meta_batch) == (8, None)
