"""Is an epoch of `repro train` only its steps and its evaluation? The loop's overhead, as a ratio (the goal on a
GPU: epoch <= 1.10 x (steps x step time + evaluation)).

For each method it builds the run exactly as `repro train` does (repro.train.build_experiment, the run's
hardware defaults) and then, round-robin in one process: a whole epoch through repro.train.run_epoch (batch loader,
the method's step, end of epoch, evaluation), one method step on a batch already on the device, and the
end-of-epoch evaluation alone. Reported per method: the median epoch, the predicted epoch (steps x median step +
median evaluation) and their ratio; what is over 1 is the loader, the host syncs and the bookkeeping.

    .venv/bin/python -m benchmarks.epoch_time                                    # digits, smallcnn, the CPU
    .venv/bin/python -m benchmarks.epoch_time --device cuda --data cifar100 --model resnet18   # full-size fake CIFAR

CIFAR cannot be downloaded here: with --data cifar100 / cifar10 the benchmark writes a full-size data set of random
images in the torchvision layout to a temporary folder (timing only), unless --data-root names a real one.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import torch
from tabulate import tabulate

from benchmarks.roundrobin import round_robin_medians
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.train import (
    build_experiment,
    evaluate_epoch,
    run_epoch,
)
from repro.training.progress import EpochProgress

METHODS = ("baseline", "class_labels", "instance_labels")
FULL_SIZE = {"cifar10": (10_000, 10_000), "cifar100": (10_000, 10_000)}  # train images per batch file, test images


def fake_full_size_cifar(name: str, root: Path) -> None:
    """Images of CIFAR's full size in the published layout, with torchvision's checksums made to match."""
    from testing_support import published_files

    per_batch, n_test = FULL_SIZE[name]
    if name == "cifar10":
        fake = published_files.write_cifar10(root, per_batch=per_batch, n_test=n_test)
    else:
        fake = published_files.write_cifar100(root, n_train=5 * per_batch, n_test=n_test)
    fake.trust_checksums()


def measure(overrides: list[str], *, warmup: int, repeats: int, step_repeats: int) -> dict[str, float]:
    cfg = load_config(overrides)
    rd = RunDir.for_config(to_container(cfg))
    rd.path.mkdir(parents=True, exist_ok=True)
    exp = build_experiment(cfg, rd)
    progress = EpochProgress(mode="none", total_epochs=exp.optim.epochs, run_id=rd.run_id)
    hw = exp.hardware
    x, y, idx = next(iter(exp.batches.train))
    x, y, idx = hw.prepare_batch(x), y.to(hw.device), idx.to(hw.device)
    epoch = itertools.count()  # the epoch index run_epoch is given (schedules, curricula) goes on counting

    def one_step() -> None:
        with hw.autocast():
            exp.method.train_step(exp, x, y, idx)

    def steps() -> None:
        for _ in range(step_repeats):
            one_step()

    closures = {
        "epoch": lambda: run_epoch(exp, next(epoch), progress),
        "steps": steps,
        "evaluation": lambda: evaluate_epoch(exp),
    }
    times = round_robin_medians(closures, warmup=warmup, repeats=repeats, cuda=hw.device.type == "cuda")
    n_steps = len(exp.batches.train)
    predicted = n_steps * times["steps"] / step_repeats + times["evaluation"]
    return {
        "steps": n_steps,
        "step_ms": 1e3 * times["steps"] / step_repeats,
        "eval_s": times["evaluation"],
        "epoch_s": times["epoch"],
        "predicted_s": predicted,
        "ratio": times["epoch"] / predicted,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--data", default="digits", choices=("digits", "cifar10", "cifar100"))
    parser.add_argument("--data-root", help="a real CIFAR root (default: a fabricated full-size one)")
    parser.add_argument("--model", default=None, help="default: smallcnn on digits, resnet18 on CIFAR")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (after one warm-up round)")
    parser.add_argument("--step-repeats", type=int, default=10, help="method steps per timed 'steps' sample")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("overrides", nargs="*", help="more config overrides, e.g. precision=bf16 deterministic=true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = args.model or ("smallcnn" if args.data == "digits" else "resnet18")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root
        if args.data != "digits" and root is None:
            root = str(Path(tmp) / "data")
            fake_full_size_cifar(args.data, Path(root))
        rows = []
        for method in args.methods:
            overrides = [
                f"data={args.data}",
                f"model={model}",
                f"method={method}",
                f"device={args.device}",
                "tracker=none",
                "progress=none",
                f"output_root={tmp}/out",
                *args.overrides,
            ]
            if root is not None:
                overrides.append(f"data.root={root}")
            got = measure(overrides, warmup=1, repeats=args.repeats, step_repeats=args.step_repeats)
            rows.append(
                [
                    method,
                    got["steps"],
                    f"{got['step_ms']:.2f}",
                    f"{got['eval_s']:.2f}",
                    f"{got['predicted_s']:.2f}",
                    f"{got['epoch_s']:.2f}",
                    f"{got['ratio']:.3f}",
                ]
            )
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {args.threads} thread(s)"
    print(f"{args.data} / {model} on {device}, torch {torch.__version__}; medians of {args.repeats} rounds")
    print(
        tabulate(
            rows,
            headers=["method", "steps", "step ms", "eval s", "steps x step + eval s", "epoch s", "epoch / predicted"],
            tablefmt="github",
        )
    )
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except UserError as exc:  # e.g. --device cuda where torch sees no GPU: one paragraph, exit 2
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
