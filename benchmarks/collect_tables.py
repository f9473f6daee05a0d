"""How long `repro tables` takes on a big output_root: collect N run directories into one frame, then build and
write every table (Markdown + CSV). The target is under 10 s for 1,000 runs.

It fabricates N run directories in a temp dir (a real resolved config.yaml, status.json, summary.json and a short
metrics.jsonl each): first every run the tables' sweep files plan (reported runs, then fold runs; from the real
sweep files, else from a stand-in sweep shaped like the paper's CSVs), then, to reach N, extra runs no table uses
(as a hyper-parameter search would leave). About 5% are left failed or running, so the "not averaged" lists are
exercised too.

    python -m benchmarks.collect_tables --runs 1000

`--paper-root DIR` instead fabricates (once; an existing DIR is reused) the output root of a lab that has run every
paper sweep: one done run directory per run the table sweep files plan (every stage: tuning, teacher, fold, final),
each with its resolved config.yaml, status.json, summary.json, provenance.json and a metrics.jsonl as long as the
run's epochs with per-class accuracies as wide as its classes (about 1.5 GB in all), then times `repro tables` on it
as a user runs it (wall seconds and peak memory of the whole process):

    python -m benchmarks.collect_tables --paper-root /tmp/paper-root
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.collect import collect_runs
from analysis.sweeps import load_specs
from analysis.tables.build import make_tables
from analysis.tables.paper import paper_table
from repro.checkout import CHECKOUT_ROOT
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import PlannedRun

TABLES = range(1, 9)


@dataclass
class StandInSpec:
    """A sweep spec with the paper's rows and columns, 3 seeds, 5 fold runs per final run."""

    number: int
    metric: str = "final_test_acc"

    def __post_init__(self):
        paper = paper_table(self.number)
        self.name, self.rows, self.columns = f"table{self.number}", list(dict.fromkeys(paper["row"])), []
        self.cells = list(zip(paper["row"], paper["column"]))
        self.columns = list(dict.fromkeys(paper["column"]))

    def plan(self, *, output_root):
        planned = []
        for c, (row, column) in enumerate(self.cells):
            data = "cifar10" if column.startswith("CIFAR10/") else "cifar100"
            for seed in range(3):
                folds = tuple(f"{data}-resnet18-instance_labels-t{self.number}c{c}s{seed}f{f}" for f in range(5))
                planned += [
                    PlannedRun(fid, row, column, seed, "fold", f, (), {"data": {"name": data}})
                    for f, fid in enumerate(folds)
                ]
                planned.append(
                    PlannedRun(
                        f"{data}-resnet18-replay-t{self.number}c{c}s{seed}",
                        row,
                        column,
                        seed,
                        "final",
                        None,
                        (),
                        {"data": {"name": data}},
                        folds,
                    )
                )
        return planned


def sweep_specs(sweeps_dir: Path) -> tuple[dict[int, Any], str]:
    try:
        return load_specs(sweeps_dir), f"the sweep files in {sweeps_dir}"
    except Exception as exc:  # no sweep files here: measure with the stand-in
        print(f"(real sweep files not usable: {exc}; using a stand-in sweep shaped like the paper's tables)")
    return {n: StandInSpec(n) for n in TABLES}, "a stand-in sweep shaped like the paper's tables"


def fabricate(root: Path, specs: dict[int, Any], n_runs: int) -> int:
    """Write up to n_runs run directories: reported runs first, then fold runs. Returns how many were written."""
    base = to_container(load_config(["tracker=none", "progress=none", f"output_root={root}"]))
    planned = [
        p
        for spec in specs.values()
        for p in (
            spec.plan(output_root=str(root))
            if isinstance(spec, StandInSpec)
            else expand_sweep(spec, output_root=str(root))
        )
    ]
    reported = [p for p in planned if p.stage in ("single", "final")]
    others = [p for p in planned if p.stage not in ("single", "final")]
    rng = random.Random(0)
    seen: set[str] = set()
    written = 0
    extras = (
        PlannedRun(f"cifar100-resnet18-baseline-extra{i:05d}", "", "", 100 + i, "single", None, (), {})
        for i in range(n_runs)
    )
    for p in [*reported, *others, *extras]:
        if written >= n_runs:
            break
        if p.run_id in seen:
            continue
        seen.add(p.run_id)
        config = copy.deepcopy(base)
        config["data"]["name"] = (p.config.get("data") or {}).get("name", "cifar100")
        config["seed"] = p.seed
        config["sweep"] = {"name": "bench", "stage": p.stage}
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(config)
        roll = rng.random()
        acc = rng.uniform(0.4, 0.95)
        rd.write_metrics(
            [
                {
                    "epoch": e,
                    "lr": 0.1,
                    "train_loss": 1.0 / e,
                    "train_acc": acc,
                    "val_acc": acc,
                    "test_acc": acc,
                    "seconds": 30.0,
                }
                for e in range(1, 11)
            ]
        )
        if roll < 0.03:
            rd.write_status("failed", epoch=4, message="the training loss became nan at epoch 5.")
        elif roll < 0.05:
            rd.write_status("running", epoch=7)
        else:
            rd.write_status("done", epoch=10)
            rd.write_summary(
                {
                    "final_test_acc": acc,
                    "final_train_acc": acc,
                    "epochs": 10,
                    "seconds": 300.0,
                    "best_val_epoch": 9,
                    "best_val_acc": acc,
                    "test_acc_at_best_val": acc,
                    "final_val_acc": acc,
                    "num_train": 40000,
                    "num_meta": 10000,
                }
            )
        written += 1
    return written


# One epoch's metrics row of a real noisy instance-label run (sweeps/demo/table6.yaml), per-class lists widened to
# the run's classes: what a run's metrics.jsonl holds per epoch.
METRIC_KEYS = (
    "anchor_t_mae clean_label_entropy clean_top1_damaged clean_train_acc confidence label_change_mean label_entropy "
    "label_given_prob label_noise_top1 logit_norm lr memorised_noisy noisy_label_entropy noisy_top1_corrected "
    "noisy_top1_given noisy_top5_corrected recovered_noisy seconds test_acc train_acc train_loss val_acc"
).split()


def metrics_text(epochs: int, classes: int, rng: random.Random) -> str:
    rows = []
    for epoch in range(1, epochs + 1):
        row = {key: rng.random() for key in METRIC_KEYS}
        row["epoch"] = epoch
        row["test_per_class_acc"] = [rng.random() for _ in range(classes)]
        row["val_per_class_acc"] = [rng.random() for _ in range(classes)]
        rows.append(json.dumps(row, sort_keys=True) + "\n")
    return "".join(rows)


def fabricate_paper_root(root: Path, sweeps_dir: Path) -> tuple[int, int]:
    """One done run directory per run the table sweep files of `sweeps_dir` plan (unique run ids). Returns (runs,
    bytes written)."""
    from repro.runs.io import atomic_write_json, atomic_write_text

    specs = load_specs(sweeps_dir)
    planned = {p.run_id: p for spec in specs.values() for p in expand_sweep(spec, output_root=str(root))}
    rng = random.Random(0)
    size = 0
    for run_id, p in planned.items():
        rd = RunDir(root / "runs" / run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        epochs = int(p.config["optim"]["epochs"])
        classes = int(p.config["data"].get("num_classes") or 10)
        acc = rng.uniform(0.4, 0.95)
        atomic_write_text(rd.metrics_file, metrics_text(epochs, classes, rng))
        rd.write_status("done", epoch=epochs)
        rd.write_summary(
            {
                "final_test_acc": acc,
                "final_train_acc": acc,
                "final_val_acc": acc,
                "best_val_acc": acc,
                "best_val_epoch": epochs,
                "test_acc_at_best_val": acc,
                "epochs": epochs,
                "seconds": 3600.0,
                "clean_labels_use": "meta set",
                "clean_labels_used": 1000,
            }
        )
        atomic_write_json(
            rd.path / "provenance.json",
            {"sessions": [{"commit": "0" * 40, "dirty": False, "device": "cuda", "argv": ["repro", "sweep"]}]},
        )
        size += sum(f.stat().st_size for f in rd.path.iterdir())
    return len(planned), size


def time_tables_command(root: Path, sweeps_dir: str) -> None:
    """`repro tables` on `root` as a user runs it: wall seconds and the process's peak memory."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "repro.cli",
            "tables",
            "--runs",
            str(root),
            "--sweeps-dir",
            sweeps_dir,
            "--out",
            out,
        ]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=CHECKOUT_ROOT)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    print(f"`repro tables --runs {root}`: {wall:.1f} s, peak memory {peak:.2f} GiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sweeps-dir", default=str(CHECKOUT_ROOT / "sweeps"))
    parser.add_argument("--paper-root", type=Path, help="fabricate (or reuse) every paper sweep's runs here, then time")
    args = parser.parse_args(argv)
    if args.paper_root is not None:
        if not (args.paper_root / "runs").is_dir():
            t0 = time.perf_counter()
            n, size = fabricate_paper_root(args.paper_root, Path(args.sweeps_dir))
            print(f"fabricated {n} run directories ({size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s")
        time_tables_command(args.paper_root, args.sweeps_dir)
        return 0
    specs, origin = sweep_specs(Path(args.sweeps_dir))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "outputs"
        t0 = time.perf_counter()
        n = fabricate(root, specs, args.runs)
        t1 = time.perf_counter()
        frame = collect_runs(root)
        t2 = time.perf_counter()
        messages: list[str] = []
        written = make_tables(
            frame, specs, out_dir=Path(tmp) / "tables", output_root=root, source=str(root / "runs"), log=messages.append
        )
        t3 = time.perf_counter()
        cli = None
        if origin.startswith("the sweep files"):  # the whole command, as a user runs it (startup and imports too)
            cmd = [
                sys.executable,
                "-m",
                "repro.cli",
                "tables",
                "--runs",
                str(root),
                "--sweeps-dir",
                args.sweeps_dir,
                "--out",
                str(Path(tmp) / "cli_tables"),
            ]
            t4 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=CHECKOUT_ROOT)
            cli = time.perf_counter() - t4
    print(f"tables from {origin}: {', '.join(str(n) for n in specs)}")
    print("\n".join(messages))
    print(f"fabricated {n} run directories in {t1 - t0:.2f} s (setup, not timed below)")
    print(f"collect_runs:  {t2 - t1:.3f} s  ({len(frame)} rows x {frame.shape[1]} columns)")
    print(f"tables:        {t3 - t2:.3f} s  ({len(written)} tables, Markdown + CSV)")
    print(f"total:         {t3 - t1:.3f} s  (target: under 10 s for 1,000 runs)")
    if cli is not None:
        print(f"`repro tables` as a command (process start, imports, collect, sweep expansion, tables): {cli:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
