"""A price that matches the run: a short digits run of each step kind, priced from a calibration `repro bench` takes in
the same process (repro/sweep/budget/costs.py: `full_run_gpu_hours`), against what the run then records in
summary.json's `seconds`: the rounds benchmarks/price_rounds.py takes, judged here. Both sides are read on one
clock, side by side, so the ratio does not depend on the machine's speed:

- a work clock, which counts the output elements of every layer's forward pass (the look-ahead's JVP and the
  evaluation passes included) and nothing else: deterministic, so its bounds are tight. It sees any difference
  between the work the bench times and the work a run does (a step built otherwise, another batch or meta batch, an
  epoch the estimate prices otherwise); it does not see time spent outside the layers (loaders, Python).
- the process's CPU time at one torch thread (tests/conftest.py: `--clock cpu`, as benchmarks/plan_vs_actual.py
  reads the runs): the real seconds, inflated little by the machine's other jobs but noisy on a shared machine, so
  its bounds are wide and a kind is judged by its median over rounds, each a calibration and the six runs: one
  round's ratio moves too far to be judged alone (benchmarks/price_rounds.py measures how far and chooses ROUNDS).

The runs train at the bench's batch (128) and meta batch (the holdout split's 252 meta images against the bench's 256):
their step is the one it timed, so a ratio off 1 is the estimate's error in pricing a step inside an epoch and an
epoch's other costs, not the plane that prices other batches. When the bench's short epoch drew a meta batch of 96
and its long one 256, the work clock priced every look-ahead kind's run x1.155 of its work (plain kinds x1.016).

Second tier (`e2e`): a round, a calibration of every kind and six runs, takes 12-25 CPU-s; the CPU clock's ROUNDS of
them about 145 CPU-s, the file's largest cost. The first tier keeps the
cheap checks: every kind has a run here, and the bench's epochs train the isolated step's batch and meta batch at
both lengths (tests/commands/test_bench_epoch.py).
"""

from __future__ import annotations

import statistics

import pytest
import torch

from benchmarks.price_rounds import ON_CPU, ROUNDS, RUNS, Priced, cpu_round, price_and_train
from repro.commands import bench
from repro.methods.registry import method_declaration
from repro.sweep.budget.clock import WALL_CLOCK, Clock
from repro.training.step_cost import STEP_COSTS

# est/measured on the work clock: 1.011-1.014 for every kind (the last batch of an epoch, 110 images, priced as 128)
ON_WORK = (0.97, 1.05)


def test_each_step_kind_has_a_run_of_a_method_that_declares_it():
    assert set(RUNS) == set(STEP_COSTS), "a new step kind needs a run here"
    for kind, overrides in RUNS.items():
        assert method_declaration(overrides[0].removeprefix("method=")).step_cost is kind


def _off(rounds: list[Priced], bounds: tuple[float, float]) -> str:
    """The kinds whose median est/measured over `rounds` is outside `bounds`, with every round's figures of every
    kind ("" when none is)."""
    ratios = {kind: statistics.median(got[kind][0] / got[kind][1] for got in rounds) for kind in rounds[0]}
    if all(bounds[0] <= ratio <= bounds[1] for ratio in ratios.values()):
        return ""
    return f"est/measured outside {bounds}: " + ", ".join(
        f"{kind.key} {ratio:.3f} (" + ", ".join(f"{got[kind][0]:.3f}/{got[kind][1]:.3f}" for got in rounds) + ")"
        for kind, ratio in ratios.items()
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_each_step_kinds_run_does_the_work_it_was_priced_at(tmp_path):
    outputs = [0]

    def count(module: torch.nn.Module, inputs, output) -> None:
        if isinstance(output, torch.Tensor) and next(module.children(), None) is None:  # a layer, not a container
            outputs[0] += output.numel()

    work = Clock(WALL_CLOCK.key, "counted in layers' outputs", lambda: outputs[0] / 1e6)
    handle = torch.nn.modules.module.register_module_forward_hook(count)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bench, "clock_named", lambda key: work)  # every timing of the bench on the work clock
            got = price_and_train(tmp_path, ["--steps", "1"], work.read, epochs=2)
    finally:
        handle.remove()
    if off := _off([got], ON_WORK):
        pytest.fail(off)


@pytest.mark.slow
@pytest.mark.e2e
def test_each_step_kinds_run_takes_about_the_seconds_it_was_priced_at(tmp_path):
    rounds = [cpu_round(tmp_path / str(round_)) for round_ in range(ROUNDS)]
    if off := _off(rounds, ON_CPU):
        pytest.fail(off)
