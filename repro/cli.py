"""`repro`: the command line (entry point of the `repro` console script). Each subcommand lives in its own module
with `add_arguments(parser)` and `run(args) -> int`; this file only dispatches and turns bad input into a
one-paragraph error (exit 2). What a user reads first is `DESCRIPTION`, the top of `repro --help`."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from typing import Sequence

from repro.errors import Interrupted, UserError, sigterm_interrupts

DESCRIPTION = """\
Reproduce "Learning Soft Labels via Meta Learning" (Vyas, Saxena, Voice, 2020) and Lukasik et al.'s "Does label
smoothing mitigate label noise?": train one run, send a paper table's whole protocol to SLURM (or run it here),
and rebuild the paper's tables and figures beside the published numbers.

start here:
  repro demo                              the laptop-sized reproduction on the embedded digits data: every
                                          table's protocol, then its tables and figures (CPU, minutes)
  repro train method=instance_labels      train one run (Hydra overrides; `repro train --help` lists them all)
  repro sweep sweeps/table1.yaml --dry-run
                                          a paper table's runs and GPU-hours; without --dry-run it trains them
                                          here, with --executor slurm --profile P it submits them to SLURM"""
EPILOG = """\
every command: `repro COMMAND --help`. Exit codes: 0 done, 2 bad input (a one-paragraph error, nothing written),
3 the run is held by another process, 130 / 143 interrupted (resumable). Docs: README.md and docs/."""

# What an interrupted command leaves, unless its module says otherwise (`WHEN_INTERRUPTED`): the training commands'.
RESUMABLE = "the run keeps its last checkpoint; run the same command again to resume."

# name -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("repro.commands.train", "train one model (Hydra overrides: model=resnet18 data=cifar100 ...)"),
    "sweep": ("repro.sweep.command", "run or submit a paper table's sweep; `repro sweep status FILE`"),
    "plan": ("repro.commands.plan", "which of the paper's claims a GPU-hour budget can decide, and what to run"),
    "labels": ("repro.commands.labels", "fold-average label trajectories for the replay stage"),
    "tables": ("analysis.commands", "regenerate the paper's tables (Markdown + CSV) from runs"),
    "ledger": ("analysis.commands", "the paper's claims judged in runs: intervals, detectable effects (MD, CSV, PNG)"),
    "figures": ("analysis.commands", "figures (PNG) from runs: the paper's Figures 2-4 and seven of ours"),
    "demo": ("analysis.demo", "the laptop-sized reproduction on the embedded digits data"),
    "doctor": ("repro.commands.doctor", "check this environment: torch, CUDA, GPU, W&B, SLURM, data root"),
    "data": (
        "repro.commands.data",
        "fetch CIFAR-10, CIFAR-100 and CIFAR-N's label files: `repro data download cifar10 --root DIR`",
    ),
    "bench": ("repro.commands.bench", "measure per-step costs on this GPU for `repro sweep --dry-run` estimates"),
    "wandb": (
        "repro.commands.wandb",
        "upload offline runs (`repro wandb sync ROOT`), save a workspace view (`workspace E/P`)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser = build_parser()
        if argv and argv[0] not in ("-h", "--help"):
            parser.print_usage(sys.stderr)
            print(f"repro: error: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}", file=sys.stderr)
            return 2
        parser.print_help()
        return 0
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"repro {name}", description=COMMANDS[name][1])
    module.add_arguments(parser, name) if _takes_name(module.add_arguments) else module.add_arguments(parser)
    parse = getattr(module, "parse_args", None)  # commands that take overrides anywhere on the line
    args = parse(parser, rest) if parse else parser.parse_args(rest)
    args.command = name
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with sigterm_interrupts():  # SLURM jobs do not come through here (repro/sweep/executors/job.py)
            return int(module.run(args) or 0)
    except UserError as exc:  # exit 2: bad input; 3: the run (or sweep) is held by another process (LockHeld)
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one paragraph, even when quoting YAML
        return int(getattr(exc, "exit_code", 2))
    except OSError as exc:  # a path that is not a directory, no permission, ...: the user's environment, not a bug
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"error: {exc.strerror or exc}{where}. Check that the paths given (output_root, --runs, --out, "
            "data.root) point where you meant and are writable; nothing else was changed.",
            file=sys.stderr,
        )
        return 2
    except (KeyboardInterrupt, Interrupted) as exc:  # SIGINT (Ctrl-C) -> 130, SIGTERM (kill, timeout) -> 143
        signum = getattr(exc, "signum", None) or signal.SIGINT
        after = getattr(module, "WHEN_INTERRUPTED", RESUMABLE)  # the command says what an interruption leaves
        print(f"interrupted ({signal.Signals(signum).name}): {after}", file=sys.stderr)
        return 128 + int(signum)


def _takes_name(fn) -> bool:
    """Whether a command's `add_arguments` takes the command's name too (analysis.commands serves three). Read from
    the function's code object: `inspect` would add about a third to the import time of `repro --help`."""
    return fn.__code__.co_argcount >= 2


if __name__ == "__main__":
    raise SystemExit(main())
