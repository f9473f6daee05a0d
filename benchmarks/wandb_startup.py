"""W&B's cost per run when runs share a process (as `repro demo --wandb` and `repro sweep --executor local` run
them): N short runs with tracker=wandb and N with tracker=none, interleaved, in one process; the difference of the
mean wall times is what W&B adds to a run (start-up, the end-of-run charts, figures and artifacts, shut-down).

    WANDB_MODE=offline .venv/bin/python -m benchmarks.wandb_startup --pairs 5 --method baseline
    WANDB_MODE=offline .venv/bin/python -m benchmarks.wandb_startup --pairs 5 --method class_labels

Offline only (the W&B directories go to a temp dir); never syncs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from repro.config import load_config
from repro.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--method", default="baseline")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="wandb-startup-"))
    os.environ["WANDB_MODE"] = "offline"
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        os.environ[var] = str(tmp / var.lower())
    common = [
        "data.subset=300",
        "data.test_subset=150",
        f"optim.epochs={args.epochs}",
        "progress=none",
        f"method={args.method}",
    ]
    times: dict[str, list[float]] = {"wandb": [], "none": []}
    train(load_config([*common, "tracker=none", f"output_root={tmp / 'warm'}"]))  # imports, data cache
    for i in range(args.pairs):
        for tracker in ("wandb", "none") if i % 2 == 0 else ("none", "wandb"):
            started = time.perf_counter()
            train(load_config([*common, f"tracker={tracker}", f"output_root={tmp / f'{tracker}-{i}'}"]))
            times[tracker].append(time.perf_counter() - started)
    print("per run (s): " + "; ".join(f"{k}: {', '.join(f'{t:.2f}' for t in v)}" for k, v in times.items()))
    w, n = statistics.mean(times["wandb"]), statistics.mean(times["none"])
    print(
        f"method={args.method} epochs={args.epochs} pairs={args.pairs}: tracker=wandb {w:.2f} s/run "
        f"(min {min(times['wandb']):.2f}), tracker=none {n:.2f} s/run (min {min(times['none']):.2f}); "
        f"W&B adds {w - n:.2f} s per run (median pair difference "
        f"{statistics.median(a - b for a, b in zip(times['wandb'], times['none'])):.2f} s)"
    )


if __name__ == "__main__":
    main()
