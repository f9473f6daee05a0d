"""`repro train [overrides...]`: train one run (or resume it, or say it is done)."""

from __future__ import annotations

import argparse
import math
import textwrap

from omegaconf import OmegaConf

# group -> (its default, a note); the options are read from the packaged config tree, so a new method's config
# file shows up here by itself.
GROUP_NOTES = {
    "data": ("digits", "data.root=/path/to/cifar (torchvision layout)"),
    "model": ("smallcnn", ""),
    "optim": (None, "default: the model's Table 9 preset; setting_a / setting_b: the noisy tables' peer settings"),
    "method": ("baseline", "options of each: repro/conf/method/<name>.yaml, docs/methods/"),
    "noise": ("none", "noise.fraction=0.4"),
    "split": ("holdout", "holdout: 20% meta, 5 folds (split.fold=0..4); noisy: 2% clean meta"),
    "tracker": ("wandb", "offline unless tracker.mode=online"),
}


def groups_help() -> str:
    """The epilog of `repro train --help`: every config group with its options, then top-level keys."""
    from importlib.resources import files

    conf = files("repro.conf")
    lines = ["config groups (pick with group=option):"]
    for group, (default, note) in GROUP_NOTES.items():
        names = sorted(p.name[:-5] for p in conf.joinpath(group).iterdir() if p.name.endswith(".yaml"))
        names = [f"{n} (default)" if n == default else n for n in sorted(names, key=lambda n: n != default)]
        lines += textwrap.wrap(" | ".join(names), 110, initial_indent=f"  {group:<8} ", subsequent_indent=" " * 11)
        if note:
            lines.append(f"  {'':<8} {note}")
    lines += [
        "top-level keys: seed=0 output_root=outputs progress=auto|bar|plain|none",
        "  hardware: device=auto|cpu|cuda precision=fp32|bf16 channels_last=auto|true|false compile_jvp=false "
        "deterministic=false",
        "",
        "exit codes: 0 done, 2 bad input (one-paragraph error), 3 the run is held by another process (see --wait)",
    ]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = groups_help()
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=resnet18 data=cifar100 seed=1")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument("--wait", nargs="?", type=float, const=math.inf, default=0.0, metavar="SECONDS",
                        help="if another process is training this run, wait for it (forever, or SECONDS) instead "
                             "of exiting with code 3")


def run(args: argparse.Namespace) -> int:
    from repro.config import load_config, to_container
    from repro.validation import check_paths
    from repro.train import train

    cfg = load_config(args.overrides)
    if args.print_config:
        print(OmegaConf.to_yaml(cfg))
        return 0
    check_paths(to_container(cfg))  # the data this run reads exists (not for --print-config)
    result = train(cfg, wait=True if math.isinf(args.wait) else max(args.wait, 0.0))
    where = result.run_dir.path
    if result.already_done:
        print(f"Run {result.run_dir.run_id} is already done; nothing to do. Results: {where}/summary.json")
    else:
        s = result.summary
        print(f"Run {result.run_dir.run_id} finished: final test accuracy {s['final_test_acc']:.4f}"
              + (f", test accuracy at best validation epoch {s['test_acc_at_best_val']:.4f}"
                 if "test_acc_at_best_val" in s else "")
              + f". Run directory: {where}")
    return 0
