"""Successive halving against the full grid on the digits demo's tuned tables: the same cells tuned both ways, each
strategy from an empty output root, side by side (two processes at once, so both see the same machine load).

    .venv/bin/python -m benchmarks.halving_vs_grid --root /tmp/hvg          # trains both, then prints the report
    .venv/bin/python -m benchmarks.halving_vs_grid --root /tmp/hvg --report # the report of roots already trained

For each strategy (`<root>/grid`, `<root>/halving`) it plans the demo sweeps that tune (sweeps/demo/tableN.yaml,
Tables 1-6 and the `repro demo --extra` ones that tune: 12, 13, 16), restricted to their tuned rows and columns (the
teachers a tuned student needs come along), with `--tune-strategy` set, and trains them in one process, one run at a
time, one torch thread (`repro demo`'s thread count), without W&B (`tracker=none`), timing the wall clock and this
process's CPU seconds.

The report, per tuned cell (a cell shared by several tables once): each strategy's winner, whether they agree, and
where they differ both winners' full-length validation and test accuracy (their tuning runs in the grid root, which
trained every point to the end) and the cell's reported test accuracy under each (mean over seeds); the epochs each
strategy trained (device independent), in the tuning stages and in all; CPU and wall seconds, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tabulate import tabulate

from repro.checkout import CHECKOUT_ROOT

TABLES = (1, 2, 3, 4, 5, 6, 12, 13, 16)
STRATEGIES = ("grid", "halving")
QUIET = ("progress=none", "tracker=none")  # training only: no progress lines, no W&B runs (not in the run ids)


def tuned_specs(tables: tuple[int, ...], quick: bool = False) -> dict:
    """{table: its demo sweep restricted to the rows and columns that tune (`quick`: and to its first seed)}."""
    from analysis.sweeps import load_specs
    from repro.sweep.stages.tune import cell_tune

    out = {}
    for number, spec in load_specs(CHECKOUT_ROOT / "sweeps" / "demo", tables).items():
        cells = [(r, c) for r in spec.rows if r not in spec.needs for c in spec.row_columns(r) if cell_tune(spec, r, c)]
        if cells:
            rows = list(dict.fromkeys(r for r, _ in cells))
            seeds = spec.seeds[:1] if quick else None
            out[number] = spec.select(rows=rows, columns=list(dict.fromkeys(c for _, c in cells)), seeds=seeds)
    return out


def scale(strategy: str, quick: bool):
    """The demo's own sizes with `strategy`; `quick`: 4 epochs on 300 / 150 samples (checks this script only)."""
    from repro.sweep.spec.model import Scale

    return (
        Scale(epochs=4, subset=300, test_subset=150, stage_options={"tune_strategy": strategy})
        if quick
        else Scale(stage_options={"tune_strategy": strategy})
    )


def train(root: Path, strategy: str, tables: tuple[int, ...], quick: bool) -> None:
    """Train the tuned cells of `tables` with `strategy` into `root`/<strategy>; write its times to measure.json."""
    import torch

    from repro.runs.io import atomic_write_json
    from repro.sweep.run_local import LocalSweep, run_sweeps_locally

    torch.set_num_threads(1)
    out = root / strategy
    specs = tuned_specs(tables, quick)
    sweeps = [LocalSweep(spec, scale(strategy, quick), QUIET) for spec in specs.values()]
    load, wall, cpu = os.getloadavg(), time.perf_counter(), time.process_time()
    plans = run_sweeps_locally(sweeps, output_root=out, jobs=1, report=lambda line: None)
    measured = {
        "strategy": strategy,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "load_before": load,
        "load_after": os.getloadavg(),
        "failed": sorted({rid for p in plans for rid in p.failed}),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    atomic_write_json(out / "measure.json", measured)


def report(root: Path, tables: tuple[int, ...], quick: bool) -> str:
    from repro.runs.rundir import RunDir
    from repro.sweep.stages.tune import choose, point_text, results, run_of
    from repro.sweep.sweep_plan import plan_sweep

    specs = tuned_specs(tables, quick)
    plans = {
        s: {
            n: plan_sweep(spec, output_root=root / s, scale=scale(s, quick), extra_overrides=QUIET)
            for n, spec in specs.items()
        }
        for s in STRATEGIES
    }
    cells, seen = [], set()
    for number in specs:
        tuned = {s: _tuned_runs(plans[s][number]) for s in STRATEGIES}
        for key, grid_runs in tuned["grid"].items():
            config = grid_runs[0].config
            ids = tuple(str(e["run"]) for e in config["tune"]["runs"])
            if ids in seen:
                continue
            seen.add(ids)
            halving_runs = tuned["halving"][key]
            keys = list(config["tune"]["keys"])
            winners = {"grid": choose(results(config)), "halving": choose(results(halving_runs[0].config))}
            entry = {"table": number, "cell": f"{key[0]} / {key[1]}", "points": len(set(map(_point, _entries(config))))}
            entry["winners"] = {s: point_text(keys, w) for s, w in winners.items()}
            entry["same"] = winners["grid"] == winners["halving"]
            # each root's own tuning runs (a student's differ between the roots: its teacher is a tuned run, whose
            # id names its strategy); a run another cell trains to the end anyway counts whole
            own = {"grid": config, "halving": halving_runs[0].config}
            entry["tuning_epochs"] = {
                s: sum(_epochs(RunDir(root / s / "runs" / str(e["run"]))) for e in own[s]["tune"]["runs"])
                for s in STRATEGIES
            }
            if not entry["same"]:
                scored = {p: rids for p, _, rids in results(config)}  # grid root: every point at full length
                entry["full_length"] = {
                    s: {
                        m: statistics.fmean(RunDir(root / "grid" / "runs" / r).read_summary()[m] for r in scored[w])
                        for m in ("final_val_acc", "final_test_acc")
                    }
                    for s, w in winners.items()
                }
                entry["reported_test"] = {
                    s: statistics.fmean(
                        (RunDir(root / s / "runs" / r.run_id).read_summary() or {}).get("final_test_acc", float("nan"))
                        for r in runs
                    )
                    for s, runs in (("grid", grid_runs), ("halving", halving_runs))
                }
            cells.append(entry)
    measured = {s: json.loads((root / s / "measure.json").read_text()) for s in STRATEGIES}
    all_epochs = {
        s: sum(_epochs(RunDir(p)) for p in (root / s / "runs").iterdir() if p.is_dir() and p.name == run_of(p.name))
        for s in STRATEGIES
    }
    return _render(cells, measured, all_epochs)


def _entries(config: dict) -> list[dict]:
    return list(config["tune"]["runs"])


def _point(entry: dict) -> tuple:
    return tuple(entry["values"])


def _tuned_runs(plan) -> dict[tuple[str, str], list]:
    """{(row, column): the cell's reported runs (single / final), which choose the winner}."""
    out: dict[tuple[str, str], list] = {}
    for run in plan.runs:
        if run.stage in ("single", "final") and (run.config.get("tune") or {}).get("keys"):
            out.setdefault((run.row, run.column), []).append(run)
    return out


def _epochs(rd) -> int:
    rows = rd.read_metrics() if rd.metrics_file.exists() else []
    return len(rows)


def _render(cells: list[dict], measured: dict, all_epochs: dict) -> str:
    def pair(values: dict) -> str:
        return " / ".join(f"{100 * values[s]:.1f}" for s in STRATEGIES)

    body = []
    for c in cells:
        e = c["tuning_epochs"]
        row = [
            c["table"],
            c["cell"],
            c["points"],
            c["winners"]["grid"],
            "same" if c["same"] else c["winners"]["halving"],
        ]
        row.append(f"{e['grid']} / {e['halving']}")
        if c["same"]:
            row += ["", "", ""]
        else:
            fl = c["full_length"]
            row += [pair({s: fl[s]["final_val_acc"] for s in STRATEGIES})]
            row += [pair({s: fl[s]["final_test_acc"] for s in STRATEGIES}), pair(c["reported_test"])]
        body.append(row)
    headers = ["table", "cell", "points", "grid's winner", "halving's", "tuning epochs grid / halving"]
    headers += ["winners' val % (full length)", "winners' test %", "cell's test % (grid / halving)"]
    table = tabulate(body, headers=headers, tablefmt="github")
    tuning = {s: sum(c["tuning_epochs"][s] for c in cells) for s in STRATEGIES}
    same = sum(c["same"] for c in cells)
    lines = [
        table,
        "",
        f"same winner in {same} of {len(cells)} cells; tuning epochs: grid {tuning['grid']}, halving "
        f"{tuning['halving']} ({tuning['halving'] / tuning['grid']:.0%}); all epochs trained (tuned cells and their "
        f"teachers): grid {all_epochs['grid']}, halving {all_epochs['halving']} "
        f"({all_epochs['halving'] / all_epochs['grid']:.0%})",
    ]
    for s in STRATEGIES:
        m = measured[s]
        lines.append(
            f"{s}: {m['cpu_s']:.0f} CPU s, {m['wall_s']:.0f} wall s (one process, one torch thread; load average "
            f"{m['load_before'][0]:.1f} before, {m['load_after'][0]:.1f} after; {m['date']}; "
            f"{len(m['failed'])} failed)"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="output roots <root>/grid and <root>/halving")
    parser.add_argument("--tables", type=int, nargs="+", default=list(TABLES))
    parser.add_argument("--report", action="store_true", help="only the report of roots already trained")
    parser.add_argument("--quick", action="store_true", help="4 epochs, 300 samples, one seed: checks the script")
    parser.add_argument("--strategy", choices=STRATEGIES, help=argparse.SUPPRESS)  # one side (a child process)
    args = parser.parse_args()
    root, tables = args.root.resolve(), tuple(args.tables)
    if args.strategy:
        train(root, args.strategy, tables, args.quick)
        return 0
    if not args.report:
        for s in STRATEGIES:
            if (root / s).exists():
                parser.error(f"{root / s} exists: each strategy starts from an empty output root")
        base = [sys.executable, "-m", "benchmarks.halving_vs_grid", "--root", str(root), "--tables", *map(str, tables)]
        base += ["--quick"] * args.quick + ["--strategy"]
        children = [subprocess.Popen([*base, s]) for s in STRATEGIES]  # side by side: the same load for both
        if any(child.wait() for child in children):
            return 1
    print(report(root, tables, args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
