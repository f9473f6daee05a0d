"""How a MentorNet mentor's held-out fit grows with its Adam steps (docs/methods/mentornet.md, "Steps of a mentor"):
the PD mentor on the enumerated pre-defined curriculum, and the DD mentor on the dump of a digits mentor run at 20%
uniform noise (the digits demo's, sweeps/demo/mentornet.yaml, trained here with one mentor step: only its dump is
used), each trained from the same seeds for each step count, with the seconds it took (one torch thread).

    .venv/bin/python -m benchmarks.mentor_steps [--steps 1000 3000 10000 30000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from repro.config import load_config
from repro.methods.mentornet import records
from repro.methods.mentornet.curricula import dd_data, pd_data
from repro.methods.mentornet.trainer import MentorRecipe, train_mentor
from repro.train import train

DUMP_RUN = [
    "method=mentornet_mentor",
    "method.mentor_steps=1",
    "data=digits",
    "model=smallcnn",
    "split=noisy",
    "split.meta_fraction=0.05",
    "noise=uniform",
    "noise.fraction=0.2",
    "optim.epochs=30",
    "tracker=none",
    "progress=none",
    "device=cpu",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 3000, 10000, 30000])
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        run = train(load_config([*DUMP_RUN, f"output_root={root}"]))
        _, dump = records.read_dump(run.run_dir.path)
    pd_rows = pd_data(torch.Generator().manual_seed(2))
    dd_rows, _ = dd_data(dump, torch.Generator().manual_seed(0), percentile=90)
    print(f"DD dump: {len(dump)} rows, noisy share {float((dump.noisy != dump.clean).float().mean()):.3f}")
    print("mentor  steps  seconds  test loss  mean |v - v*|  same side of 0.5  mean v (v*=1)  mean v (v*=0)")
    for steps in args.steps:
        for name, rows in (("pd", pd_rows), ("dd", dd_rows)):
            started = time.perf_counter()
            _, fit = train_mentor(rows, MentorRecipe(steps=steps), torch.Generator().manual_seed(3))
            seconds = time.perf_counter() - started
            ones, zeros = fit.get("test_mean_weight_target_1"), fit.get("test_mean_weight_target_0")
            print(
                f"{name:6}  {steps:5}  {seconds:7.1f}  {fit['test_loss']:9.4f}  {fit['test_mean_abs_error']:13.4f}  "
                f"{fit['test_same_side_of_half']:16.4f}  {'-' if ones is None else f'{ones:.4f}':>13}  "
                f"{'-' if zeros is None else f'{zeros:.4f}':>13}",
                flush=True,
            )


if __name__ == "__main__":
    main()
