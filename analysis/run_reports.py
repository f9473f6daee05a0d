"""What `repro tables` and `repro ledger` run (their arguments: analysis/commands.py, which imports this module when
one of them runs, so that `--help` loads no pandas): the runs read from their directories or the W&B API, the sweep
files that say which runs make each cell, then the tables or the ledger."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import sweeps  # called through its module: a test replaces sweeps.load_specs
from analysis.collect import collect_runs, require_runs
from analysis.tables.annotators import write_annotator_table
from analysis.tables.build import make_tables
from analysis.wandb_source import collect_wandb


def read_runs(args: argparse.Namespace, unwritten: str) -> tuple[pd.DataFrame, str]:
    """(run frame, where it came from): the W&B project of --wandb, else the run directories under --runs; none is
    an error that says what was not written (`unwritten`)."""
    if args.wandb:
        runs, source = collect_wandb(args.wandb), f"W&B project {args.wandb}"
    else:
        runs, source = collect_runs(args.runs), f"{Path(args.runs) / 'runs'}"
    require_runs(runs, source, unwritten)
    return runs, source


def given_scale(args: argparse.Namespace) -> tuple[Any, list[str] | None]:
    """(scale, extra overrides) given on the command line; (None, None): each sweep's last `repro sweep`'s."""
    if any(v is not None for v in (args.epochs, args.subset, args.test_subset)):
        return sweeps.Scale(epochs=args.epochs, subset=args.subset, test_subset=args.test_subset), []
    return None, None


def run_tables(args: argparse.Namespace) -> int:
    runs, source = read_runs(args, "no tables were written")
    specs = sweeps.load_specs(args.sweeps_dir, args.tables)
    scale, extra = given_scale(args)
    make_tables(
        runs,
        specs,
        out_dir=args.out,
        output_root=args.runs,
        source=source,
        paper_dir=args.paper_dir,
        scale=scale,
        extra_overrides=extra,
    )
    write_annotator_table(runs, args.out, source=source)  # when some run has several annotators per image
    return 0


def run_ledger(args: argparse.Namespace) -> int:
    from analysis.ledger.write import make_ledger  # deferred: matplotlib (its figure), kept from `repro tables`

    runs, source = read_runs(args, "no ledger was written")
    # every tableN.yaml there; a claim's table without one says so
    specs = sweeps.load_specs(args.sweeps_dir, args.tables)
    scale, extra = given_scale(args)
    make_ledger(
        runs,
        specs,
        out_dir=args.out,
        output_root=args.runs,
        source=source,
        sweeps=str(args.sweeps_dir),
        scales=None if scale is None else {number: scale for number in specs},
        extra_overrides=extra,
        claims_path=args.claims,
        paper_dir=args.paper_dir,
        tables=args.tables,
    )
    return 0
