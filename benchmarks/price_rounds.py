"""How far one round of pricing a short run moves on the CPU clock, and how many rounds the price test's median needs.

A round: `repro bench --device cpu --models smallcnn` into a calibration folder of its own, then a short digits run of
each step kind (RUNS), each priced from that calibration (repro/sweep/budget/costs.py: `full_run_gpu_hours`) against
the seconds it records on the same clock. tests/benchmarks/test_benchmark_price_matches_run.py judges every kind by its
median ratio over ROUNDS rounds within ON_CPU. One round alone moves too much to be judged: its runs last 0.3-2
CPU-s, and their price's per-epoch fixed cost is an intercept fitted to short epochs. This prints every round's
ratios, a log-normal fit of each kind's ratio, and the odds that the median of 1, 3, 5 or 7 rounds puts some kind
past ON_CPU, the figures ROUNDS is chosen by (docs/tests.md). Run it quiet and beside load (`yes > /dev/null &`):

    .venv/bin/python -m benchmarks.price_rounds --rounds 12      # about 20 CPU-s a round, at one torch thread
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import torch
from scipy import stats
from tabulate import tabulate

from repro.cli import main as repro_main
from repro.config import load_config, to_container
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import full_run_gpu_hours
from repro.train import train
from repro.training.step_cost import (
    LABEL_LOOKAHEAD,
    PLAIN,
    TEACHER_FORWARD,
    TWO_NETWORKS,
    WEIGHT_LOOKAHEAD,
    WEIGHTING_NET_LOOKAHEAD,
    StepCost,
)

# digits at the bench's batch; a 20% held-out meta set (252 images); 100 test images keep the evaluation short
RUN = ["data=digits", "model=smallcnn", "split=holdout", "data.batch_size=128", "data.test_subset=100", "device=cpu"]
QUIET = ["tracker=none", "progress=none"]
# a run of each step kind; the reweighting methods at the bench's meta batch (their own default is 100)
RUNS: dict[StepCost, list[str]] = {
    PLAIN: ["method=baseline"],
    LABEL_LOOKAHEAD: ["method=instance_labels"],
    WEIGHT_LOOKAHEAD: ["method=l2rw", "method.meta_batch_size=256"],
    WEIGHTING_NET_LOOKAHEAD: ["method=mwnet", "method.meta_batch_size=256"],
    TWO_NETWORKS: ["method=coteaching"],
    TEACHER_FORWARD: ["method=distillation"],  # its teacher: the plain run
}
CPU_BENCH = ["--clock", "cpu", "--steps", "10"]  # the calibration a round on the CPU clock takes
CPU_EPOCHS = 4  # each run's epochs on the CPU clock
# est/measured bounds on the CPU clock, wide for a shared machine, and the rounds whose median is judged by them
ON_CPU = (0.67, 1.5)
ROUNDS = 7  # `python -m benchmarks.price_rounds` prints the odds of each median past ON_CPU

Priced = dict[StepCost, tuple[float, float]]  # kind -> (estimated, measured) seconds of its run


def price_and_train(root: Path, bench_args: list[str], read: Callable[[], float], epochs: int) -> Priced:
    """One round: calibrate into `root` (`repro bench` with `bench_args`), then train a run of each kind whose epochs
    are timed on `read` (what the training loop times them with: time.perf_counter, repro/train.py)."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, {"REPRO_CALIBRATION_DIR": str(root / "calibration")}))
        if repro_main(["bench", "--device", "cpu", "--models", "smallcnn", *bench_args]) != 0:
            raise RuntimeError(f"repro bench {' '.join(bench_args)} failed")
        cal = load_calibration()
        stack.enter_context(mock.patch.object(time, "perf_counter", read))
        got: Priced = {}
        teacher: Path | None = None
        for kind, overrides in RUNS.items():
            source = [f"method.teacher={teacher}"] if kind is TEACHER_FORWARD else []
            cfg = load_config([*RUN, f"optim.epochs={epochs}", *QUIET, *overrides, *source, f"output_root={root}"])
            result = train(cfg)
            teacher = teacher or result.run_dir.path
            got[kind] = (full_run_gpu_hours(to_container(cfg), cal) * 3600, float(result.summary["seconds"]))
    return got


def cpu_round(root: Path) -> Priced:
    """A round on the process's CPU time (at one torch thread: `repro bench --clock cpu` refuses more)."""
    return price_and_train(root, CPU_BENCH, time.process_time, CPU_EPOCHS)


def log_fit(rounds: list[Priced]) -> dict[StepCost, tuple[float, float]]:
    """Each kind's mean and standard deviation of log(est/measured) over `rounds` (at least two)."""
    fits = {}
    for kind in rounds[0]:
        logs = [math.log(got[kind][0] / got[kind][1]) for got in rounds]
        fits[kind] = (statistics.fmean(logs), statistics.stdev(logs))
    return fits


def odds_median_outside(fits: dict[StepCost, tuple[float, float]], bounds: tuple[float, float], rounds: int) -> float:
    """The odds that the median ratio of `rounds` (odd) rounds is outside `bounds` for some kind, each kind's ratio
    log-normal as fitted and independent of the others and of its other rounds."""
    most = (rounds + 1) // 2  # the median is past a bound when at least this many rounds are
    inside = 1.0
    for mean, sd in fits.values():
        low = stats.norm.cdf((math.log(bounds[0]) - mean) / sd)
        high = stats.norm.sf((math.log(bounds[1]) - mean) / sd)
        inside *= 1.0 - stats.binom.sf(most - 1, rounds, low) - stats.binom.sf(most - 1, rounds, high)
    return 1.0 - inside


def report(rounds: list[Priced]) -> str:
    """Every round's ratios, the fit, and the odds of the median of 1-7 rounds past ON_CPU."""
    kinds = list(rounds[0])
    rows = [[i, *(f"{got[k][0] / got[k][1]:.3f}" for k in kinds)] for i, got in enumerate(rounds)]
    fits = log_fit(rounds)
    rows.append(["fit", *(f"{math.exp(fits[k][0]):.3f} x/ {math.exp(fits[k][1]):.3f}" for k in kinds)])
    lines = [tabulate(rows, headers=["round", *(k.key for k in kinds)])]
    for n in (1, 3, 5, 7):
        lines.append(f"median of {n}: some kind outside {ON_CPU} in {odds_median_outside(fits, ON_CPU, n):.2%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds to take (at least 2)")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: a fit needs two rounds")
    torch.set_num_threads(1)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            rounds.append(cpu_round(Path(tmp) / str(i)))
            print(f"round {i}: load {os.getloadavg()[0]:.1f}", flush=True)
    print(report(rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
