"""Is `repro sweep --dry-run`'s estimate right? Calibrate on this CPU (`repro bench --device cpu`), run a small digits
sweep that covers every stage kind (plain runs, folds plus replay, a tuning stage, a teacher and its student, a
reweighting method, co-teaching), and compare each run's estimate with the seconds it then took (summary.json's
`seconds`: the epochs with their evaluation and records, without process start-up). Prints estimated vs measured
seconds per stage and step kind and in total, and their ratio (goal: within +-25% per stage kind), with the load
average before and after (the ratios are only the estimate's error on an otherwise idle machine).

    .venv/bin/python -m benchmarks.plan_vs_actual                 # 6 epochs per run, one run at a time (~2 min)
    .venv/bin/python -m benchmarks.plan_vs_actual --epochs 3 --keep /tmp/pva

The calibration includes `repro bench`'s whole short epochs (plain and label look-ahead): each epoch's estimate adds
their per-epoch fixed cost and prices a step at their in-epoch ratio (repro/sweep/budget/epoch_cost.py); the output
prints both.

6 epochs: a digits epoch is 10-20 steps, so a 2-epoch run is mostly its first steps' warm-up, which the
calibration leaves out (it times steps after warm-up) and a real run of 200 epochs does not notice.

Runs one at a time, each with --threads torch threads (default 1), as the calibration times its steps: runs trained
side by side would share the cores, and on a shared machine one thread per process keeps a busy neighbour from
stalling a multi-threaded step (each thread waits for the slowest) by far more than its share of the CPU.

--clock cpu (the default) times the calibration and the runs alike in this process's CPU seconds (one thread: the
seconds the same work takes on an idle core), so the other jobs of a shared machine do not decide the ratios; the
runs train in this process (one at a time), so their epoch times are read with the same clock. --clock wall times
them on the wall clock, as `repro bench` and a run do by default: read it on an idle machine only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path

from tabulate import tabulate

SWEEP = """
    name: plan-vs-actual
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=full, split.folds=2, tracker=none, progress=none]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      Ours (Class):
        learn: [method=class_labels]
        tune:
          grid: {method.label_lr: [0.3, 3]}
      Distillation:
        overrides: [method=distillation, method.temperature=2]
        teacher: {row: Baseline}
      L2RW: [method=l2rw, split=noisy, noise=uniform, noise.fraction=0.2]
      MWNet: [method=mwnet, split=noisy, noise=uniform, noise.fraction=0.2]
      Co-teaching: [method=coteaching, split=noisy, noise=uniform, noise.fraction=0.2]
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--bench-steps", type=int, default=40, help="timed steps per kind in the calibration")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the calibration and of each run")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="see the module's docstring")
    parser.add_argument("--keep", help="write runs and the calibration here instead of a temporary folder")
    args = parser.parse_args()
    if args.clock == "cpu":
        if args.threads != 1:
            parser.error("--clock cpu counts the CPU seconds of all threads: use --threads 1, or --clock wall")
        import time

        # every epoch time of the runs (repro/train.py) is read from perf_counter; the calibration takes --clock
        time.perf_counter = time.process_time
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        os.environ["REPRO_CALIBRATION_DIR"] = str(work / "calibration")
        os.environ.setdefault("WANDB_MODE", "offline")
        import torch

        from repro.cli import main as repro

        torch.set_num_threads(args.threads)

        bench = ["bench", "--device", "cpu", "--clock", args.clock, "--models", "smallcnn"]
        assert repro([*bench, "--steps", str(args.bench_steps)]) == 0
        path = work / "sweep.yaml"
        path.write_text(textwrap.dedent(SWEEP))
        from repro.runs.rundir import RunDir
        from repro.sweep.budget.calibration import load_calibration
        from repro.sweep.budget.costs import run_gpu_hours, step_kind
        from repro.sweep.run_local import LocalSweep, run_sweeps_locally
        from repro.sweep.spec.model import Scale
        from repro.sweep.sweep_file import load_sweep

        sweep = LocalSweep(load_sweep(path), Scale(epochs=args.epochs))
        (plan,) = run_sweeps_locally(
            [sweep], output_root=work / "out", jobs=1, threads=args.threads, report=lambda s: None
        )
        if plan.failed:
            print(f"{len(plan.failed)} run(s) failed: {plan.failed}")
            return 1
        cal = load_calibration()
        groups: dict[tuple[str, str], list[float]] = {}
        for rid, run in plan.unique.items():
            summary = RunDir(plan.output_root / "runs" / rid).read_summary()
            est = run_gpu_hours(run.config, cal) * 3600
            cell = groups.setdefault((run.stage, step_kind(run.config).key), [0, 0.0, 0.0])
            cell[0] += 1
            cell[1] += est
            cell[2] += float(summary["seconds"])
        rows = [[s, k, n, f"{e:.1f}", f"{m:.1f}", f"{e / m:.2f}"] for (s, k), (n, e, m) in groups.items()]
        est, meas = sum(g[1] for g in groups.values()), sum(g[2] for g in groups.values())
        rows.append(["total", "", sum(g[0] for g in groups.values()), f"{est:.1f}", f"{meas:.1f}", f"{est / meas:.2f}"])
        load = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(load_before, os.getloadavg()))
        print(
            f"calibration: {cal.gpu}, {cal.source}; {args.epochs} epoch(s) per run, digits, smallcnn; "
            f"{args.threads} thread(s), {args.clock} clock"
        )
        print(f"load average (1, 5, 15 min) before/after: {load} on {os.cpu_count()} CPU(s)")
        # what repro bench's whole short epochs added to each epoch's price (repro/sweep/budget/epoch_cost.py)
        fixed, ratio = cal.epoch_fixed_ms or {}, cal.epoch_step_ratio or {}
        print(
            "per-epoch fixed cost (ms) and a step inside an epoch over the step timed alone, from whole short epochs: "
            + ", ".join(
                f"{k} +{v:.0f} ms x{ratio.get('smallcnn', {}).get(k, 1.0):.2f}"
                for k, v in fixed.get("smallcnn", {}).items()
            )
        )
        print(
            tabulate(
                rows,
                headers=["stage", "step kind", "runs", "estimated s", "measured s", "est/meas"],
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
