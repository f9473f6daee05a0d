"""`repro wandb ACTION`: W&B beside the run directories.

repro wandb sync ROOT [--jobs 4] [--timeout 600] [--retries 2]   upload the finished runs' offline W&B copies
repro wandb workspace ENTITY/PROJECT [--print]                     save the workspace view of the project
"""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands import wandb_workspace
from repro.errors import UserError
from repro.tracking.wandb_sync import SyncOptions, sync_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sync = sub.add_parser(
        "sync",
        help="upload the offline W&B copies of the finished runs under ROOT, a few at a time (docs/wandb.md)",
        description=(
            "Upload <ROOT>/runs/*/wandb/offline-run-* of every run that ended (done or failed) with `wandb sync`, "
            "JOBS at a time, each under a timeout, failures retried with backoff; each run's wandb_sync.json "
            "records what went up, so a second call uploads nothing twice. Safe to interrupt and run again."
        ),
    )
    sync.add_argument("root", metavar="ROOT", type=Path, help="the output root the runs were trained into")
    sync.add_argument("--jobs", type=int, default=4, help="`wandb sync` processes at once (default 4)")
    sync.add_argument("--timeout", type=float, default=600.0, help="seconds one run's upload may take (default 600)")
    sync.add_argument("--retries", type=int, default=2, help="further tries of a failed upload (default 2)")
    sync.add_argument("--backoff", type=float, default=5.0, help="seconds before the first retry, doubled after")
    sync.add_argument("--wandb-exe", help="the `wandb` executable (default: on PATH, else beside this Python)")
    workspace = sub.add_parser("workspace", help="save the W&B workspace view of a project (needs W&B online)")
    wandb_workspace.add_arguments(workspace)


def run(args: argparse.Namespace) -> int:
    if args.action == "workspace":
        return wandb_workspace.run(args)

    if args.jobs < 1 or args.timeout <= 0 or args.retries < 0 or args.backoff < 0:
        raise UserError(
            f"--jobs {args.jobs}, --timeout {args.timeout:g}, --retries {args.retries}, --backoff {args.backoff:g}: "
            "give at least one job, a positive timeout and non-negative retries and backoff."
        )
    options = SyncOptions(
        jobs=args.jobs, timeout=args.timeout, retries=args.retries, backoff=args.backoff, wandb=args.wandb_exe
    )
    report = sync_root(args.root, options)
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0
