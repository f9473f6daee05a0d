"""`repro tables`, `repro ledger` and `repro figures`: regenerate the paper's tables (Markdown + CSV), the ledger of
its claims (Markdown + CSV + PNG) and its figures (PNG) from run directories (or, for tables and the ledger, the W&B
API) and the sweep files that say which runs make each cell."""

from __future__ import annotations

import argparse

from analysis.figures.wandb_log import log_figures
from repro.tracking.wandb_run import split_project

# What an interruption leaves (repro/cli.py): every table, ledger and figure is written atomically.
WHEN_INTERRUPTED = "what was written is whole (each file is replaced atomically); run the same command again."

DEFAULT_RUNS = "outputs"
# The short names `--figures` takes, one per figure of analysis/figures/make.py's FIGURES (a test holds them equal;
# importing FIGURES here would load matplotlib and torch for every `--help`).
FIGURE_NAMES = (
    "2",
    "3",
    "4",
    "noise_methods",
    "targets",
    "smoothing_noise",
    "annotator_entropy",
    "annotator_roc",
    "memorisation",
    "teacher_smoothing",
)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--runs",
        default=DEFAULT_RUNS,
        metavar="OUTPUT_ROOT",
        help="the output_root the runs were written to (holds runs/<run_id>/); default: outputs",
    )
    if name in ("tables", "ledger"):
        ledger = name == "ledger"
        parser.add_argument(
            "--wandb", metavar="ENTITY/PROJECT", help="read the runs from the W&B API instead of run directories"
        )
        parser.add_argument(
            "--out",
            default="paper_tables/ours",
            help=f"where {'ledger.md / .csv / .png' if ledger else 'tableN.md / tableN.csv'} go "
            "(default: paper_tables/ours)",
        )
        parser.add_argument(
            "--tables",
            nargs="+",
            type=int,
            metavar="N",
            help="the claims of these tables (default: every claim)"
            if ledger
            else "table numbers (default: every table with a sweep file)",
        )
        if ledger:
            parser.add_argument(
                "--claims",
                metavar="CSV",
                help="the claims to check (default: paper_tables/claims.csv; its columns are described in "
                "docs/tables.md)",
            )
        parser.add_argument(
            "--sweeps-dir",
            default="sweeps",
            help="the directory of the tableN.yaml sweep files (default: sweeps, the bundled one where the working "
            "directory has none)",
        )
        parser.add_argument(
            "--epochs",
            type=int,
            help="the --epochs the sweeps ran with (default: what the last "
            "`repro sweep` of each table into --runs used)",
        )
        parser.add_argument("--subset", type=int, help="the --subset the sweeps ran with (default: as --epochs)")
        parser.add_argument(
            "--test-subset", type=int, help="the --test-subset the sweeps ran with (default: as --epochs)"
        )
        parser.add_argument("--paper-dir", default=None, help=argparse.SUPPRESS)
    else:
        parser.add_argument(
            "--out",
            default="figures",
            help="where figure2.png, ..., figure_teacher_smoothing.png go, one PNG per figure (default: figures)",
        )
        parser.add_argument(
            "--wandb",
            metavar="ENTITY/PROJECT",
            help="also log the figures as images in a W&B analysis run (offline unless WANDB_MODE=online)",
        )
        parser.add_argument(
            "--where",
            nargs="+",
            metavar="KEY=VALUE",
            help="draw the runs whose config has these values (e.g. data.name=cifar10 "
            "model.name=vgg16) among each figure's sweep cells: a key named here frees the paper's "
            "column of it (noise.fraction=0.6 on CIFAR-100 at 40%% gives CIFAR-100 at 60%%); KEY=* lifts "
            "a key. A selection matching no run or several cells is an error that lists the candidates",
        )
        parser.add_argument(
            "--figures",
            nargs="+",
            metavar="NAME",
            help=f"draw only these figures: {' '.join(FIGURE_NAMES)} (default: all)",
        )
        parser.add_argument(
            "--sweeps-dir",
            default="sweeps",
            help="the directory of the tableN.yaml sweep files whose cells the figures draw (default: sweeps; "
            "the digits demo's: sweeps/demo)",
        )


def run(args: argparse.Namespace) -> int:
    if args.command in ("tables", "ledger"):
        # deferred: pandas and Hydra (the runs and the sweep files), kept from `repro tables --help`
        from analysis.run_reports import run_ledger, run_tables

        return run_tables(args) if args.command == "tables" else run_ledger(args)
    return run_figures(args)


def run_figures(args: argparse.Namespace) -> int:
    from analysis.figures.make import make_figures  # deferred: matplotlib, torch (the figures)
    from analysis.figures.where import parse_where  # deferred: pandas, kept from `repro figures --help`

    if getattr(args, "wandb", None):
        split_project(args.wandb)  # a bad name fails before any figure is drawn
    written = make_figures(
        args.runs, out_dir=args.out, sweeps_dir=args.sweeps_dir, where=parse_where(args.where), only=args.figures
    )
    if getattr(args, "wandb", None):
        log_figures(args.wandb, written, runs_root=args.runs, out_dir=args.out)
    return 0
