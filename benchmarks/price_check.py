"""Is a CPU run priced at what it takes? The check a laptop user would make, as they would make it: a fresh `repro bench
--device cpu --models smallcnn` at one torch thread (OMP_NUM_THREADS=1) into a calibration folder of its own
(REPRO_CALIBRATION_DIR), then the label-noise rows of the demo's Table 6 (sweeps/demo/table6.yaml: one-hot, focal
loss, co-teaching, L2RW, MW-Net, data parameters, and instance labels with its tuning runs; seed 0) trained by `repro
sweep --executor local --jobs 1`, each run's estimate (as `repro sweep --dry-run` prices it:
repro/sweep/budget/costs.py) against the seconds its summary records. Printed per step kind (with its runs' rows and
stages) and for the whole sweep: estimated and measured seconds and their ratio, the calibration's whole-epoch
factors, and the load average before and after.

Everything is timed on the wall clock, as a run's hours are counted: read the ratios on a quiet machine (on a shared
one the load between the calibration and the runs is what they measure). Goal: every step kind within 0.75-1.33,
the whole sweep within 0.8-1.25.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.price_check --markdown     # about 5 minutes on a quiet core
    .venv/bin/python -m benchmarks.price_check --keep /tmp/pc --epochs 10        # shorter runs, kept in /tmp/pc
    .venv/bin/python -m benchmarks.price_check --keep /tmp/pc --report           # the kept folder's figures again
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from repro.checkout import CHECKOUT_ROOT
from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import run_gpu_hours, step_kind
from repro.sweep.plan import Plan
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep, select

SWEEP = CHECKOUT_ROOT / "sweeps" / "demo" / "table6.yaml"
# Its rows that train on their own (MentorNet's reads a mentor run of another sweep file)
ROWS = ("Baseline", "Focal Loss", "Co-teaching", "L2RW", "MWNet", "Data Parameters", "Ours (Instance labels)")
QUIET = ("tracker=none", "progress=none")  # neither enters a run id; W&B's files are no part of the check


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="calibrate and train in this folder (kept) instead of a temporary one")
    parser.add_argument("--report", action="store_true", help="only report the --keep folder's calibration and runs")
    parser.add_argument("--epochs", type=int, help="train every run this many epochs (default: the file's, 30)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--rows", nargs="+", default=list(ROWS), metavar="ROW")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.report and not args.keep:
        parser().error("--report reads a kept folder: give it with --keep")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        os.environ["REPRO_CALIBRATION_DIR"] = str(work / "calibration")  # the commands' and this process's
        before = os.getloadavg()
        if not args.report:
            measure(work, args)
        print(report(work, args, before))
    return 0


def measure(work: Path, args: argparse.Namespace) -> None:
    """The calibration, then the sweep's runs, each a `repro` command at one torch thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    sweep = ["sweep", str(SWEEP.relative_to(CHECKOUT_ROOT)), *QUIET, "--rows", *args.rows]
    sweep += ["--seeds", *map(str, args.seeds), *(["--epochs", str(args.epochs)] if args.epochs else [])]
    sweep += ["--executor", "local", "--jobs", "1", "--output-root", str(work / "runs")]
    for command in (["bench", "--device", "cpu", "--models", "smallcnn"], sweep):
        print(f"$ OMP_NUM_THREADS=1 repro {shlex.join(command)}", flush=True)
        run = [sys.executable, "-m", "repro.cli", *command]
        subprocess.run(run, cwd=CHECKOUT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def plan_of(work: Path, args: argparse.Namespace) -> Plan:
    """The plan of the sweep `measure` trains in `work`, as `repro sweep` plans it."""
    scale = Scale(epochs=args.epochs) if args.epochs else None  # as `repro sweep` builds it
    spec = select(load_sweep(SWEEP), {"rows": args.rows, "seeds": args.seeds}, scale)
    return plan_sweep(spec, output_root=work / "runs", scale=scale, extra_overrides=QUIET)


def priced_runs(work: Path, args: argparse.Namespace) -> list[tuple[str, str, str, float, float]]:
    """(step kind, row, stage, estimated s, measured s) of each finished run of the sweep in `work`, priced on the
    calibration in `work` as the dry run prices it (a tuned run that is its winning tuning run: counted there)."""
    plan = plan_of(work, args)
    cal = load_calibration()
    got = []
    for run_id, run in plan.unique.items():
        summary = RunDir(plan.output_root / "runs" / run_id).read_summary()
        hours = run_gpu_hours(run.config, cal, run.share)
        if summary is None or hours is None or not run.trains:
            continue
        got.append((step_kind(run.config).key, run.row, run.stage, hours * 3600, float(summary["seconds"])))
    return got


def report(work: Path, args: argparse.Namespace, before: tuple[float, float, float]) -> str:
    runs = priced_runs(work, args)
    cal = load_calibration()
    kinds: dict[str, list] = {}
    for kind, row, stage, est, meas in runs:
        group = kinds.setdefault(kind, [{}, 0, 0.0, 0.0])
        group[0][f"{row} ({stage})"] = None
        group[1:] = [group[1] + 1, group[2] + est, group[3] + meas]
    table = [[k, "; ".join(rows), n, f"{e:.1f}", f"{m:.1f}", f"{e / m:.2f}"] for k, (rows, n, e, m) in kinds.items()]
    est, meas = sum(r[3] for r in runs), sum(r[4] for r in runs)
    table.append(["whole sweep", "", len(runs), f"{est:.1f}", f"{meas:.1f}", f"{est / meas:.2f}" if meas else ""])
    headers = ["step kind", "rows (stage)", "runs", "estimated s", "measured s", "est/measured"]
    fmt = "github" if args.markdown else "simple"
    epochs = f"{args.epochs} epochs a run" if args.epochs else "the file's epochs"
    load = ", ".join(f"{a:.2f} / {b:.2f}" for a, b in zip(before, os.getloadavg()))
    factors = ", ".join(
        f"{kind} x{ratio:.2f} +{(cal.epoch_fixed_ms or {}).get(model, {}).get(kind, 0.0):.0f} ms"
        for model, per_kind in (cal.epoch_step_ratio or {}).items()
        for kind, ratio in per_kind.items()
    )
    return "\n".join(
        [
            f"calibration: {cal.gpu}, {cal.provenance}; whole-epoch factors (a step inside an epoch over the step "
            f"alone, and the fixed cost per epoch): {factors or 'none'}",
            f"runs: {SWEEP.relative_to(CHECKOUT_ROOT)}, seeds {args.seeds}, {epochs}; "
            f"load average (1, 5, 15 min) before / after: {load} on {os.cpu_count()} CPU(s)",
            "",
            tabulate(table, headers=headers, tablefmt=fmt, disable_numparse=True),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
