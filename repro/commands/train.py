"""`repro train [overrides...]`: train one run (or resume it, or say it is done)."""

from __future__ import annotations

import argparse
import math
import textwrap
from importlib.resources import files

import yaml
from omegaconf import OmegaConf

from repro.commands import hydra_info, multirun
from repro.commands.hydra_info import CFG_CHOICES, INFO_CHOICES
from repro.commands.options_doc import help_keys
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.hydra_flags import parse_with_overrides
from repro.methods import METHODS
from repro.runs.attempts import attempt_number, commit_note, earlier_attempts
from repro.sweep.start import train_run
from repro.validation import check_paths

# group -> a note. The options come from the packaged config tree (a method: from the registry, METHODS), the
# defaults from config.yaml's defaults list, the keys from their declarations (repro/commands/options_doc.py).
GROUP_NOTES = {
    "data": "data.root=/path/to/cifar (torchvision layout)",
    "model": "",
    "optim": "default: the model's Table 9 preset; setting_a / setting_b: the noisy tables' peer settings",
    # the recipe presets: one choice the paper leaves open each, on top of the optim preset (docs/choices.md)
    "optim/schedule": "default: the optim preset's (cosine to 0 for Table 9's)",
    "optim/nesterov": "",
    "optim/warmup": "",
    "optim/lookahead_lr": "peak: the look-ahead steps at optim.lr however far the schedule decayed",
    "method": "each method's options: docs/options.md (repro/conf/method/<name>.yaml: their values and sources)",
    "noise": "noise.fraction=0.4; cifar_n: noise.file=CIFAR-10_human.pt noise.type=worse (docs/cifar_n.md)",
    "split": "holdout: 20% meta, 5 folds (split.fold=0..4); noisy: 2% clean meta",
    "tracker": "offline unless tracker.mode=online",
}


def groups_help() -> str:
    """The epilog of `repro train --help`: every config group with its options, then every key with what it
    allows (from the declarations)."""
    conf = files("repro.conf")
    defaults = {
        k: v
        for d in yaml.safe_load(conf.joinpath("config.yaml").read_text())["defaults"]
        if isinstance(d, dict)
        for k, v in d.items()
    }
    lines = ["config groups (pick with group=option):"]
    width = max(map(len, GROUP_NOTES))
    for group, note in GROUP_NOTES.items():
        if group == "method":
            names = list(METHODS)
        else:
            names = sorted(p.name[:-5] for p in conf.joinpath(group).iterdir() if p.name.endswith(".yaml"))
        default = defaults.get(group)
        names = [f"{n} (default)" if n == default else n for n in sorted(names, key=lambda n: n != default)]
        indent = f"  {group:<{width}} "
        lines += textwrap.wrap(" | ".join(names), 110, initial_indent=indent, subsequent_indent=" " * len(indent))
        if note:
            lines.append(f"{' ' * len(indent)}{note}")
    lines += [
        "",
        "keys (key=value; what each allows, from its declaration; method.* and noise.* keys: the chosen method's and",
        "noise model's, in docs/options.md):",
        help_keys(),
        "",
        "exit codes: 0 done, 2 bad input (one-paragraph error), 3 the run is held by another process (see --wait)",
    ]
    return "\n".join(lines) + "\n"


USAGE = """Hydra habits:
  repro train --cfg job [--resolve] model=resnet18   the composed config (hydra / all: with Hydra's own node)
  repro train --info defaults model=resnet18         which file each config group's option came from
  repro train -m seed=0,1,2 method=baseline,class_labels optim.epochs=1
                                                     every combination (comma lists, range(0,3), choice(a,b)), run
                                                     like `repro sweep`: done runs are skipped, nothing runs twice;
                                                     --executor slurm --profile PROFILE submits them as job arrays
  repro train --rerun seed=1                         retrain a done run: the done attempt is kept in
                                                     <output_root>/attempts/<run_id>/<n>/, the new one is the run
Overrides may come anywhere on the line. Refused, with the way to do it: hydra/... and hydra.* (use repro sweep
--executor slurm, output_root=), +key / ++key / ~key and unknown keys (notes='...' and tracker.tags=[...] label a
run without entering its id). SIGTERM ends a run with exit 143, Ctrl-C with 130: status `interrupted`, resumable.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.usage = "repro train [OVERRIDE ...] [options]   (overrides and options in any order)"
    parser.epilog = groups_help() + "\n" + USAGE
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=resnet18 data=cifar100 seed=1")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument(
        "--cfg",
        "-c",
        choices=CFG_CHOICES,
        help="print the composed config (job: the run's; hydra: Hydra's own node; all: both) and exit",
    )
    parser.add_argument("--resolve", action="store_true", help="with --cfg: resolve interpolations")
    parser.add_argument(
        "--info",
        "-i",
        nargs="?",
        const="all",
        choices=INFO_CHOICES,
        help="defaults: which file each group came from; defaults-tree, searchpath, config, all "
        "(the default): Hydra's own reports",
    )
    parser.add_argument(
        "--rerun", action="store_true", help="train a done run again as a new attempt; the done one is kept (see below)"
    )
    parser.add_argument(
        "--wait",
        nargs="?",
        type=float,
        const=math.inf,
        default=0.0,
        metavar="SECONDS",
        help="if another process is training this run, wait for it (forever, or SECONDS) instead "
        "of exiting with code 3",
    )
    multirun.add_arguments(parser)


def parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Overrides anywhere on the line (`repro train --cfg job model=resnet18`)."""
    return parse_with_overrides(parser, argv, "overrides")


def run(args: argparse.Namespace) -> int:
    if args.cfg:
        hydra_info.print_cfg(args.cfg, args.overrides, resolve=args.resolve)
        return 0
    if args.info:
        hydra_info.print_info(args.info, args.overrides)
        return 0
    if args.multirun:
        return multirun.run(args)
    if args.executor or args.profile or args.dry_run or getattr(args, "jobs", None) is not None:
        raise UserError(
            "--executor, --profile, --dry-run and --jobs go with -m/--multirun (e.g. `repro train -m "
            "seed=0,1 --executor slurm --profile P`); a single `repro train` trains here."
        )
    return train_one(args)


def train_one(args: argparse.Namespace) -> int:
    cfg = load_config(args.overrides)
    if args.print_config:
        print(OmegaConf.to_yaml(cfg))
        return 0
    check_paths(to_container(cfg))  # the data this run reads exists (not for --print-config)
    result = train_run(cfg, wait=True if math.isinf(args.wait) else max(args.wait, 0.0), rerun=args.rerun)
    rd = result.run_dir
    where = rd.path
    if result.already_done:
        note = commit_note(rd)
        print(
            f"Run {rd.run_id} is already done"
            + (f" ({note})" if note else "")
            + f"; nothing to do. Results: {where}/summary.json. `--rerun` trains a new attempt (this one is kept)."
        )
    elif result.stopped:  # a successive-halving rung's job: stopped at its rung, or not promoted to it
        print(f"Run {rd.run_id} {result.stopped}. Run directory: {where}")
    else:
        s = result.summary
        kept = earlier_attempts(rd)
        print(
            f"Run {rd.run_id} finished: final test accuracy {s['final_test_acc']:.4f}"
            + (
                f", test accuracy at best validation epoch {s['test_acc_at_best_val']:.4f}"
                if "test_acc_at_best_val" in s
                else ""
            )
            + f". Run directory: {where}"
            + (f" (attempt {attempt_number(rd)}; earlier attempts kept in {kept[-1].parent})" if kept else "")
        )
        for warning in s.get("transition_estimate_warnings") or []:  # an estimated T (transition_check.py)
            print(f"WARNING: {warning}")
    return 0
