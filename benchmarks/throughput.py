"""Training throughput of each model on this CPU, and how much of a step the batch loader costs.

For every model it runs the real pipeline in one process: draw a batch from repro.data.loader.BatchLoader (with
augmentation), then one forward + backward + SGD step. Both parts are timed per step; medians over the steps
after warm-up are reported, because the shared machine is noisy. Nothing is asserted: this prints numbers.

CIFAR cannot be downloaded here, so the CIFAR networks read random uint8 images of CIFAR's shape (the loader's
cost depends only on the shapes); smallcnn reads the real embedded digits.

    python -m benchmarks.throughput --models smallcnn resnet18 --steps 10 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tabulate import tabulate

from repro.data.datasets import load_dataset
from repro.data.loader import BatchLoader
from repro.models import MODEL_NAMES, build_model

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
SYNTHETIC_IMAGES = 2048


@dataclass
class Measurement:
    model: str
    batch_size: int
    parameters: int
    load_seconds: list[float]
    step_seconds: list[float]

    def row(self) -> list[object]:
        load = statistics.median(self.load_seconds)
        step = statistics.median(self.step_seconds)
        return [
            self.model,
            self.batch_size,
            f"{self.parameters / 1e6:.2f}",
            f"{load * 1e3:.2f}",
            f"{step * 1e3:.1f}",
            f"{self.batch_size / step:.1f}",
            f"{self.batch_size / (load + step):.1f}",
            f"{100 * load / (load + step):.1f}",
        ]


HEADERS = [
    "model",
    "batch",
    "params (M)",
    "load ms (median)",
    "step ms (median)",
    "model img/s",
    "end-to-end img/s",
    "load share %",
]


def batches_for(model_name: str, batch_size: int, seed: int) -> tuple[Iterator, int, int, int]:
    """An endless augmented batch stream for the model's data, plus (num_classes, in_channels, image_size)."""
    generator = torch.Generator().manual_seed(seed)
    if model_name == "smallcnn":
        train, _ = load_dataset("digits", None)
        images, targets = train.images, train.targets
        mean, std, num_classes = train.mean, train.std, train.num_classes
    else:
        images = torch.randint(0, 256, (SYNTHETIC_IMAGES, 3, 32, 32), dtype=torch.uint8, generator=generator)
        targets = torch.randint(0, 10, (SYNTHETIC_IMAGES,), generator=generator)
        mean, std, num_classes = CIFAR_MEAN, CIFAR_STD, 10
    loader = BatchLoader(
        images,
        targets,
        torch.arange(images.shape[0]),
        batch_size=batch_size,
        shuffle=True,
        augment=True,
        mean=mean,
        std=std,
        generator=generator,
        drop_last=True,
    )
    return loader.cycle(), num_classes, images.shape[1], images.shape[2]


def measure(model_name: str, *, batch_size: int, warmup: int, steps: int, seed: int) -> Measurement:
    """Time `warmup + steps` (batch, SGD step) pairs side by side; keep the last `steps` of each."""
    torch.manual_seed(seed)
    stream, num_classes, in_channels, image_size = batches_for(model_name, batch_size, seed)
    model = build_model(model_name, num_classes=num_classes, in_channels=in_channels, image_size=image_size).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    load_seconds: list[float] = []
    step_seconds: list[float] = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        x, y, _ = next(stream)
        loaded = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        done = time.perf_counter()
        load_seconds.append(loaded - start)
        step_seconds.append(done - loaded)
    parameters = sum(p.numel() for p in model.parameters())
    return Measurement(model_name, batch_size, parameters, load_seconds[warmup:], step_seconds[warmup:])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, default=list(MODEL_NAMES), help="models to time")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size of the CIFAR networks (default 32)")
    parser.add_argument("--smallcnn-batch-size", type=int, default=128, help="batch size of smallcnn (default 128)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model, after warm-up (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps per model (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("batch_size", "smallcnn_batch_size", "threads", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{args.warmup} warm-up + {args.steps} timed steps per model; medians over the timed steps",
        flush=True,
    )
    rows = []
    for name in args.models:
        batch_size = args.smallcnn_batch_size if name == "smallcnn" else args.batch_size
        result = measure(name, batch_size=batch_size, warmup=args.warmup, steps=args.steps, seed=args.seed)
        rows.append(result.row())
        print(f"  {name}: done", file=sys.stderr, flush=True)
    print(tabulate(rows, headers=HEADERS, tablefmt="github"))
    print(
        "model img/s = batch / step time (forward + backward + SGD); end-to-end adds the loader's time; "
        "load share = loader time / (loader + step)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
