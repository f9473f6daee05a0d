"""Is `repro sweep --dry-run`'s estimate right? Calibrate on this CPU (`repro bench --device cpu`), run a small digits
sweep that covers every stage kind (plain runs, folds plus replay, a tuning stage, a teacher and its student, a
reweighting method, co-teaching), and compare each run's estimate with the seconds it then took (summary.json's
`seconds`: the epochs, without process start-up). Prints estimated vs measured seconds per stage and step kind and
in total, and their ratio (goal: within +-25% per stage kind).

    .venv/bin/python benchmarks/plan_vs_actual.py                 # 2 epochs per run, one run at a time
    .venv/bin/python benchmarks/plan_vs_actual.py --epochs 3 --keep /tmp/pva

Runs one at a time (--jobs 1): the calibration times one step with this process's torch threads, and runs
trained side by side would share the cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

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
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--bench-steps", type=int, default=10, help="timed steps per kind in the calibration")
    parser.add_argument("--keep", help="write runs and the calibration here instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        os.environ["REPRO_CALIBRATION_DIR"] = str(work / "calibration")
        os.environ.setdefault("WANDB_MODE", "offline")
        from repro.cli import main as repro

        assert repro(["bench", "--device", "cpu", "--models", "smallcnn", "--steps", str(args.bench_steps)]) == 0
        path = work / "sweep.yaml"
        path.write_text(textwrap.dedent(SWEEP))
        from repro.runs.rundir import RunDir
        from repro.sweep import Scale, run_sweep
        from repro.sweep.costs import load_calibration, run_gpu_hours, step_kind

        plan = run_sweep(path, output_root=work / "out", scale=Scale(epochs=args.epochs), jobs=1, report=lambda s: None)
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
        print(f"calibration: {cal.gpu}, {cal.source}; {args.epochs} epoch(s) per run, digits, smallcnn")
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
