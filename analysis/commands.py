"""`repro tables` and `repro figures`: regenerate the paper's tables (Markdown + CSV) and Figures 2-4 (PNG) from
run directories (or, for tables, the W&B API)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_RUNS = "outputs"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--runs", default=DEFAULT_RUNS, metavar="OUTPUT_ROOT",
                        help="the output_root the runs were written to (holds runs/<run_id>/); default: outputs")
    if name == "tables":
        parser.add_argument("--wandb", metavar="ENTITY/PROJECT",
                            help="read the runs from the W&B API instead of run directories")
        parser.add_argument("--out", default="paper_tables/ours", help="where tableN.md / tableN.csv go")
        parser.add_argument("--tables", nargs="+", type=int, metavar="N",
                            help="table numbers (default: every table with a sweep file)")
        parser.add_argument("--sweeps-dir", default="sweeps", help="the directory of the tableN.yaml sweep files")
        parser.add_argument("--paper-dir", default=None, help=argparse.SUPPRESS)
    else:
        parser.add_argument("--out", default="figures", help="where figure2.png ... figure4.png go")


def run(args: argparse.Namespace) -> int:
    if args.command == "tables":
        return run_tables(args)
    return run_figures(args)


def run_tables(args: argparse.Namespace) -> int:
    from analysis.collect import require_runs
    from analysis.tables import load_specs, make_tables

    if args.wandb:
        from analysis.wandb_source import collect_wandb

        runs, source = collect_wandb(args.wandb), f"W&B project {args.wandb}"
    else:
        from analysis.collect import collect_runs

        runs, source = collect_runs(args.runs), f"{Path(args.runs) / 'runs'}"
    require_runs(runs, source)
    specs = load_specs(args.sweeps_dir, args.tables)
    make_tables(runs, specs, out_dir=args.out, output_root=args.runs, source=source, paper_dir=args.paper_dir)
    return 0


def run_figures(args: argparse.Namespace) -> int:
    from analysis.figures import make_figures

    make_figures(args.runs, out_dir=args.out)
    return 0
