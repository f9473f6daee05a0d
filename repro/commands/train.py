"""`repro train [overrides...]`: train one run (or resume it, or say it is done)."""

from __future__ import annotations

import argparse
import math

from omegaconf import OmegaConf

GROUPS_HELP = """config groups (pick with group=option):
  data     digits (default) | cifar10 | cifar100          data.root=/path/to/cifar (torchvision layout)
  model    smallcnn (default) | resnet18 | vgg16 | alexnet | wrn28_10
  optim    follows the model (Table 9 presets); override keys, e.g. optim.lr=0.1 optim.epochs=10
  method   baseline | label_smoothing | confidence_penalty | class_labels | instance_labels | replay
  noise    none | uniform (noise.fraction=0.4)
  split    holdout (20% meta, 5 folds, split.fold=0..4) | full | noisy (2% clean meta)
  tracker  wandb (offline unless tracker.mode=online) | none
top-level keys: seed=0 output_root=outputs progress=auto|bar|plain|none

exit codes: 0 done, 2 bad input (one-paragraph error), 3 the run is held by another process (see --wait)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = GROUPS_HELP
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
