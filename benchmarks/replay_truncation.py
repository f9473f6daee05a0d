"""What the fold runs' top-k label record costs the replay run.

Fold runs record each training sample's learned instance label as its top-k classes plus a flat tail (the rest of
the mass spread evenly over the other C - k classes), in float16 (repro/labels/trajectory.py); the replay run trains on
the fold average of those reconstructions. This script trains one fold run that records the *full* labels
(method.record.topk = C), then rebuilds every epoch's labels from the top-k of the full ones, for several k, exactly
as repro.labels.trajectory.labels_from_topk does, and prints the total-variation distance TV = 1/2 sum_c |p_c - q_c|
between the full and the replayed labels (mean, 99th percentile and max over every sample and epoch, and the mean
of the worst epoch; epochs with a full snapshot, by default the first and the last, replay exactly), next to the disk
the record takes (4 bytes per class kept per sample per epoch: int16 + float16).
The last line is the labels' own movement in one epoch (mean TV between consecutive epochs), for scale: replay
switches labels once per epoch, where the paper updates them every iteration.

Data (--data):
  digits       the embedded digits (10 classes): k in {1, 2, 3, 5}, the real learning dynamics at small C;
  synthetic100 a fabricated CIFAR-100-layout set (100 classes in 20 superclasses of 5, like CIFAR-100's): each
               image is its superclass' pattern + its class' (weaker) pattern + noise, so the learned labels put
               off-target mass on related classes as the paper's Figure 2 shows for CIFAR-100; k in {1,...,20}.
Or --run PATH: measure an existing finished run that recorded topk = C.

    python -m benchmarks.replay_truncation --data synthetic100 --epochs 8
    python -m benchmarks.replay_truncation --data digits --epochs 12
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from repro.labels.trajectory import labels_from_topk, read_instance_topk, read_manifest, recorded_epochs

# CIFAR-100 fold run (ResNet18 preset of Table 9): 50,000 * 0.8 training samples, 165 epochs.
CIFAR100_TRAIN, CIFAR100_EPOCHS, CIFAR100_FOLDS = 40_000, 165, 5


def truncate(full: np.ndarray, k: int) -> np.ndarray:
    """The replayed labels of a top-k record of `full` (float16 probabilities, flat tail, renormalised)."""
    order = np.argsort(-full, axis=1, kind="stable")[:, :k]
    probs = np.take_along_axis(full, order, axis=1).astype(np.float16)
    return labels_from_topk(order.astype(np.int16), probs, full.shape[1])


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(p.astype(np.float64) - q.astype(np.float64)).sum(axis=1)


def measure(run: Path, ks: list[int]) -> tuple[list[dict], float, int, int, int]:
    """(rows per k, mean movement per epoch, epochs, classes, samples) of a run recorded with topk = C."""
    manifest = read_manifest(run)
    num_classes = int(manifest["num_classes"])
    if int(manifest.get("topk") or 0) < num_classes:
        raise SystemExit(
            f"{run} recorded top-{manifest.get('topk')} of {num_classes} classes; the measurement needs "
            f"the full labels (train it with method.record.topk={num_classes})."
        )
    epochs = recorded_epochs(run)
    full_by_epoch = []
    for e in range(1, epochs + 1):
        _, classes, probs = read_instance_topk(run, e)
        full_by_epoch.append(labels_from_topk(classes, probs, num_classes))
    rows = []
    for k in ks:
        per_epoch = [total_variation(full, truncate(full, k)) for full in full_by_epoch]
        every = np.concatenate(per_epoch)
        rows.append(
            {
                "k": k,
                "mean": every.mean(),
                "p99": np.quantile(every, 0.99),
                "max": every.max(),
                "worst_epoch_mean": max(tv.mean() for tv in per_epoch),
                "bytes_per_sample_epoch": 4 * k,
                "cifar100_fold_run_mb": 4 * k * CIFAR100_TRAIN * CIFAR100_EPOCHS / 1e6,
            }
        )
    moves = [total_variation(a, b).mean() for a, b in zip(full_by_epoch, full_by_epoch[1:])]
    return rows, (float(np.mean(moves)) if moves else float("nan")), epochs, num_classes, len(full_by_epoch[0])


# --------------------------------------------------------------------------------------------- fabricated data


def fabricate_cifar100(root: Path, *, per_class: int, seed: int = 0) -> None:
    """A learnable CIFAR-100-layout set under `root` with patched checksums (this process only)."""
    from testing_support.published_files import write_cifar100_files  # the published file format the tests also use

    rng = np.random.default_rng(seed)
    # Class = colour (the networks pool globally, so colour statistics are what they can read): 20 groups of five
    # classes (fine // 5) with colours far apart, each class a small offset from its group's; every image its own
    # colour jitter, so classes of one group overlap and the learned labels move mass onto their siblings.
    coarse = rng.uniform(-1.5, 1.5, size=(20, 3))
    fine = coarse[np.arange(100) // 5] + rng.normal(0, 0.35, size=(100, 3))
    sets = []
    for n in (per_class * 100, 2000):
        labels = np.repeat(np.arange(100), n // 100)
        rng.shuffle(labels)
        colour = fine[labels] + rng.normal(0, 0.25, size=(len(labels), 3))  # [n, 3]
        x = colour[:, :, None] + 0.8 * rng.normal(0, 1, size=(len(labels), 3, 1024))
        rows = np.clip(128 + 40 * x, 0, 255).astype(np.uint8).reshape(len(labels), 3072)
        sets.append((rows, [int(v) for v in labels]))
    write_cifar100_files(root, *sets).trust_checksums()


def train_full_record(data: str, epochs: int, work: Path, label_lr: float) -> Path:
    import torch

    from repro.config import load_config
    from repro.train import train

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if data == "synthetic100":
        fabricate_cifar100(work / "cifar", per_class=30)
        overrides = [
            "data=cifar100",
            f"data.root={work / 'cifar'}",
            "model=smallcnn",
            "optim=smallcnn",
            "method.record.topk=100",
        ]
    else:
        overrides = ["data=digits", "model=smallcnn", "method.record.topk=10"]
    overrides += [
        "method=instance_labels",
        "split=holdout",
        "split.fold=0",
        f"optim.epochs={epochs}",
        f"method.label_lr={label_lr}",
        "method.init_target_prob=0.5",
        "tracker=none",
        "progress=none",
        f"output_root={work / 'out'}",
    ]
    cfg = load_config(overrides)
    result = train(cfg)
    return result.run_dir.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("digits", "synthetic100"), default="synthetic100")
    parser.add_argument("--run", type=Path, help="measure this finished run (recorded with topk = C) instead")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--label-lr",
        type=float,
        default=None,
        help="method.label_lr of the trained run (default: 1000 on digits as the demo, 200 else)",
    )
    parser.add_argument("--k", type=int, nargs="+", help="k values (default: by data)")
    parser.add_argument(
        "--keep", type=Path, help="train the run under this directory and keep it (default: a temporary directory)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.run is not None:
            run = args.run
        else:
            lr = args.label_lr if args.label_lr is not None else (1000.0 if args.data == "digits" else 200.0)
            run = train_full_record(args.data, args.epochs, args.keep or Path(tmp), lr)
        classes = int(read_manifest(run)["num_classes"])
        ks = args.k or ([1, 2, 3, 5] if classes <= 10 else [1, 2, 3, 5, 10, 20])
        rows, move, epochs, _, n = measure(run, [k for k in ks if k < classes])
    from tabulate import tabulate

    print(f"run: {run.name} ({n} training samples, {classes} classes, {epochs} epochs recorded)")
    print(
        tabulate(
            [
                [
                    r["k"],
                    r["mean"],
                    r["p99"],
                    r["max"],
                    r["worst_epoch_mean"],
                    r["bytes_per_sample_epoch"],
                    r["cifar100_fold_run_mb"],
                ]
                for r in rows
            ],
            headers=[
                "k",
                "TV mean",
                "TV p99",
                "TV max",
                "TV mean (worst epoch)",
                "bytes/sample/epoch",
                f"MB per CIFAR-100 fold run ({CIFAR100_EPOCHS} ep.)",
            ],
            floatfmt=(".0f", ".5f", ".5f", ".5f", ".5f", ".0f", ".0f"),
        )
    )
    print(f"labels' own movement in one epoch (mean TV between consecutive epochs): {move:.5f}")


if __name__ == "__main__":
    main()
