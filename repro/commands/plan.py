"""`repro plan --budget HOURS [--tables N ...] [--claims FILE] [--gpu KIND] [--sweeps-dir DIR] [--runs ROOT]
[--until-decided] [--runs-per-gpu K]`: which of the paper's claim lines a GPU-hour (or, with a CPU's calibration,
CPU-hour) budget can decide, with how many seeds (fixed, or until decided), P(decision) from our runs' spread where
they exist, and the `repro sweep` commands that train them, K runs packed per GPU where asked (docs/budget.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.errors import UserError
from repro.planning.budget_plan import check_budget, plan_budget
from repro.planning.lines import SWEEPS
from repro.sweep.budget.calibration import load_calibration

USAGE = """examples:
  repro plan --budget 200                       the most expected decided claim lines for 200 GPU-hours
  repro plan --budget 50 --tables 1 2           only Tables 1 and 2's claims
  repro plan --budget 300 --gpu A100            priced from the A100's `repro bench` calibration
  repro plan --budget 0.1 --gpu cpu-1t --sweeps-dir sweeps/mnist1d
                                                MNIST-1D's tables for 0.1 hours of this CPU, one thread a run
                                                (`repro bench --device cpu --models cnn1d` with OMP_NUM_THREADS=1)
  repro plan --budget 300 --until-decided       lines may also be bought with seeds until decided (its
                                                commands then carry --until-decided)
  repro plan --budget 0.2 --gpu cpu-1t --sweeps-dir sweeps/mnist1d --runs /tmp/mnist1d-runs
                                                P(decision) from the seed-to-seed spread of the runs finished there
  repro plan --budget 200 --gpu A100 --runs-per-gpu 4
                                                4 runs side by side per GPU, priced from the A100's
                                                `repro bench --concurrency 4` (its commands carry --runs-per-gpu 4)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = USAGE
    parser.add_argument("--budget", required=True, metavar="HOURS", help="GPU-hours to spend (a positive number)")
    parser.add_argument("--tables", type=int, nargs="+", metavar="N", help="only these tables' claims (default: all)")
    parser.add_argument("--claims", metavar="FILE", help="a claims CSV (default: paper_tables/claims.csv)")
    parser.add_argument(
        "--gpu",
        "--gpu-model",
        dest="gpu",
        metavar="KIND",
        help="price from this GPU's (or CPU's: cpu-<N>t) `repro bench` calibration, in its hours; the commands "
        "name it as --gpu-model (default: as `repro sweep --dry-run`)",
    )
    parser.add_argument(
        "--sweeps-dir",
        type=Path,
        default=SWEEPS,
        metavar="DIR",
        help="the tableN.yaml sweep files to plan (default: the bundled sweeps/; sweeps/mnist1d for MNIST-1D's)",
    )
    parser.add_argument(
        "--until-decided",
        action="store_true",
        help="offer each line also seeds until decided (from 2 seeds, more in rounds while it is undecided: "
        "docs/sequential-seeds.md), priced at each round's chance; a command the plan counts on it for carries "
        "--until-decided",
    )
    parser.add_argument(
        "--runs",
        type=Path,
        default=Path("outputs"),
        metavar="OUTPUT_ROOT",
        help="the output_root whose finished runs (runs/<run_id>/) give P(decision) our own spread for the lines "
        "whose cells have two or more each; the paper's spread elsewhere (default: outputs)",
    )
    parser.add_argument(
        "--runs-per-gpu",
        type=int,
        default=1,
        metavar="K",
        help="price every run packed K to a GPU, as `repro sweep --runs-per-gpu K` prices and memory-checks it (from "
        "the calibration's `repro bench --concurrency K` figures; without one, at K=1, and the plan says so); its "
        "commands carry --runs-per-gpu K (default: 1)",
    )


def budget_hours(text: str) -> float:
    """The --budget given, as a number (a word is refused in one paragraph; plan_budget refuses the rest)."""
    try:
        return float(text)
    except ValueError:
        why = f"--budget {text}: a budget is a positive, finite number of hours, e.g. --budget 200."
        raise UserError(why) from None


def run(args: argparse.Namespace) -> int:
    budget = check_budget(budget_hours(args.budget), "hours", args.budget)
    cal = load_calibration(args.gpu)
    plan = plan_budget(
        budget,
        cal,
        args.tables,
        args.claims,
        args.sweeps_dir,
        gpu_model=args.gpu,
        runs_root=args.runs,
        until_decided=args.until_decided,
        runs_per_gpu=args.runs_per_gpu,
    )
    print(plan.render())
    return 0
