"""`repro plan --budget HOURS [--tables N ...] [--claims FILE] [--gpu KIND]`: which of the paper's claim lines a
GPU-hour budget can decide, with how many seeds, and the `repro sweep` commands that train them (docs/budget.md)."""

from __future__ import annotations

import argparse

from repro.planning.budget_plan import plan_budget
from repro.sweep.budget.calibration import load_calibration

USAGE = """examples:
  repro plan --budget 200                       the most expected decided claims for 200 GPU-hours
  repro plan --budget 50 --tables 1 2           only Tables 1 and 2's claims
  repro plan --budget 300 --gpu A100            priced from the A100's `repro bench` calibration"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = USAGE
    parser.add_argument("--budget", type=float, required=True, metavar="HOURS", help="GPU-hours to spend")
    parser.add_argument("--tables", type=int, nargs="+", metavar="N", help="only these tables' claims (default: all)")
    parser.add_argument("--claims", metavar="FILE", help="a claims CSV (default: paper_tables/claims.csv)")
    parser.add_argument(
        "--gpu",
        "--gpu-model",
        dest="gpu",
        metavar="KIND",
        help="price from this GPU's `repro bench` calibration (default: as `repro sweep --dry-run`)",
    )


def run(args: argparse.Namespace) -> int:
    plan = plan_budget(args.budget, load_calibration(args.gpu), args.tables, args.claims)
    print(plan.render())
    return 0
