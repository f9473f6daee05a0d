"""How long expanding and planning a ~1,000-run sweep takes, in wall and CPU seconds (the aim: under 5 s quiet).

Table 1's grid with 20 seeds instead of 3 (1,344 runs: plain runs, 5-fold runs and final replays on four
data/model columns), planned against an output root that already holds a done run for a quarter of them.
Timed in a fresh process, so the Hydra compositions (the defaults, and one per group option used) are included.
It reports and does not judge: wall time on a shared machine moves with the load, so `--bound` (off by default) is
on the CPU seconds of this process (from loading the file to the plan, the done runs' marking included), which move
far less.

    .venv/bin/python -m benchmarks.sweep_plan [--seeds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from repro.checkout import CHECKOUT_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the grid (52 runs per seed)")
    parser.add_argument("--bound", type=float, default=None, help="fail (exit 1) above this many CPU seconds")
    args = parser.parse_args(argv)

    t_import = time.perf_counter()
    from repro.runs.rundir import RunDir
    from repro.sweep.expand.expand import expand_sweep
    from repro.sweep.plan import make_plan
    from repro.sweep.sweep_file import load_sweep

    imported = time.perf_counter() - t_import

    with tempfile.TemporaryDirectory() as tmp:
        cpu_started = time.process_time()
        started = time.perf_counter()
        spec = load_sweep(CHECKOUT_ROOT / "sweeps" / "table1.yaml")
        spec = replace(spec, seeds=list(range(args.seeds)))
        loaded = time.perf_counter()
        runs = expand_sweep(spec, output_root=tmp)
        expanded = time.perf_counter()
        for run in runs[::4]:  # a quarter of the runs are done
            rd = RunDir(Path(tmp) / "runs" / run.run_id)
            rd.path.mkdir(parents=True, exist_ok=True)
            rd.write_summary({"final_test_acc": 0.5})
        prepared = time.perf_counter()
        plan = make_plan(spec, runs, tmp)
        planned = time.perf_counter()
        cpu = time.process_time() - cpu_started
        counts = plan.counts()

    total = (planned - prepared) + (expanded - started)
    print(
        f"sweep table1 x {args.seeds} seeds: {len(runs)} runs ({len(plan.unique)} distinct), "
        f"{counts['done']} done, {len(plan.to_submit)} to submit"
    )
    print(
        f"  load: {loaded - started:.2f} s   expand (resolve + validate each run): {expanded - loaded:.2f} s   "
        f"plan: {planned - prepared:.2f} s   (imports before: {imported:.2f} s)"
    )
    bound = "" if args.bound is None else f", bound {args.bound:.1f} CPU-s"
    print(f"expand + plan of {len(runs)} runs: {total:.2f} s wall, {cpu:.2f} CPU-s{bound}")
    return 0 if args.bound is None or cpu < args.bound else 1


if __name__ == "__main__":
    sys.exit(main())
