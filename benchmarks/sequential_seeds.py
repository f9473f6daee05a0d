"""Seeds until decided against fixed seed counts, on one table's finished runs: the epochs each scheme trains and
the verdict it reaches on every claim line of the table.

    repro sweep sweeps/demo/table6.yaml --seeds 0 1 2 3 4 5 6 7 8 9 --rows ... --output-root /tmp/seq   # train
    .venv/bin/python -m benchmarks.sequential_seeds sweeps/demo/table6.yaml --root /tmp/seq --rows ... \\
        --first 2 --max-seeds 10 --fixed 3 10

The runs of seeds 0 .. max-seeds - 1 must be done under --root (the same rows, scale and overrides). The sequential
scheme is the one `repro sweep FILE --seeds 0 .. first-1 --until-decided --max-seeds N` runs: its decisions read only
the first n_k seeds of each look (repro/sweep/stages/until_decided/rounds.py), so on a root where every seed is done
they are what that command decides, and the runs it trains are the plan's runs of the first seeds with the further
rounds' runs its lines needed (`needed_runs`). A fixed count n trains every run of seeds 0 .. n-1 and is judged as
`repro ledger` judges it: each line's interval (paired or Welch, by what its runs of one seed share, as the ledger).
Epochs: each run's `optim.epochs` (tuning runs included; a run that takes its winning tuning run's records, none).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tabulate import tabulate

from repro.claims.judgement import Line, LineCell, choose_designs
from repro.claims.pairing import shared_draws
from repro.claims.stats import CellSample
from repro.runs.rundir import flatten
from repro.sweep.spec.model import Scale
from repro.sweep.stages.until_decided import (
    claim_lines,
    design_of,
    finished_values,
    floor_of,
    is_round_run,
    needed_runs,
    reported_runs,
    walk_lines,
)
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep


def epochs_of(runs) -> int:
    return sum(int(r.config["optim"]["epochs"]) for r in runs if r.trains)


def fixed(spec, n: int, root: Path, scale: Scale | None, extra: list[str]):
    """(epochs, {(claim, column): verdict}) of a fixed count of n seeds."""
    plan = plan_sweep(spec.select(seeds=list(range(n))), output_root=root, scale=scale, extra_overrides=extra)
    reported = reported_runs(plan.runs)
    values = finished_values(reported, plan.output_root, spec.metric)
    lines = []
    for line in claim_lines(plan.spec):  # the lines the sequential scheme walks, judged by the ledger's fixed rule
        cells = []
        for coef, row, column in line.cells:
            seeds = [s for s in range(n) if (row, column, s) in values]
            sample = CellSample(coef, tuple(values[(row, column, s)] for s in seeds), tuple(seeds))
            cells.append(LineCell(row, column, sample))
        first = reported.get((line.cells[0][1], line.cells[0][2], 0))
        floor = floor_of(plan.spec, first.config if first else None)
        configs = [{s: flatten(reported[(c.row, c.column, s)].config) for s in c.sample.seeds} for c in cells]
        judge = line.claim.kind.judge
        lines.append(
            Line(line.claim, line.anchor, tuple(cells), line.paper, judge, floor, shared_draws=shared_draws(configs))
        )
    design, _ = choose_designs(lines)
    verdicts = {(ln.claim.name, ln.anchor): f"{ln.verdict} ({ln.seeds_text()})" for ln in lines}
    return epochs_of(plan.unique.values()), verdicts, str(design or "paired and Welch t by line")


def sequential(spec, first: int, max_seeds: int, root: Path, epochs: int | None, extra: list[str]):
    """(epochs, {(claim, column): state}) of `--seeds 0 .. first-1 --until-decided --max-seeds max_seeds`."""
    scale = Scale(epochs=epochs, stage_options={"until_decided": True, "max_seeds": max_seeds})
    plan = plan_sweep(spec.select(seeds=list(range(first))), output_root=root, scale=scale, extra_overrides=extra)
    walk = walk_lines(plan, design_of(plan.spec, scale))
    needed = needed_runs(plan, walk)
    trained = [r for rid, r in plan.unique.items() if not is_round_run(r, walk) or rid in needed]
    states = {(s.record.claim, s.record.column): s.record.text() for s in walk.lines}
    return epochs_of(trained), states, walk.text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep")
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--rows", nargs="+")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--first", type=int, default=2)
    parser.add_argument("--max-seeds", type=int, default=10)
    parser.add_argument("--fixed", type=int, nargs="+", default=[3, 10])
    parser.add_argument("overrides", nargs="*", help="the extra overrides the runs were trained with")
    args = parser.parse_args()
    spec = load_sweep(args.sweep)
    spec = spec.select(rows=args.rows) if args.rows else spec
    root = args.root.resolve()
    scale = Scale(epochs=args.epochs) if args.epochs else None
    seq_epochs, seq_states, design = sequential(spec, args.first, args.max_seeds, root, args.epochs, args.overrides)
    fixed_runs = {n: fixed(spec, n, root, scale, args.overrides) for n in args.fixed}
    rows = [
        [claim, column, *(fixed_runs[n][1].get((claim, column), "") for n in args.fixed), state]
        for (claim, column), state in seq_states.items()
    ]
    headers = ["Claim", "Column", *(f"fixed {n} seeds" for n in args.fixed), "until decided"]
    print(f"{args.sweep}: {design}.")
    print(tabulate(rows, headers=headers, tablefmt="github"))
    epochs = [[f"fixed {n} seeds ({fixed_runs[n][2]})", fixed_runs[n][0]] for n in args.fixed]
    epochs.append([f"until decided, {args.first} to {args.max_seeds} seeds", seq_epochs])
    print(tabulate(epochs, headers=["scheme", "epochs trained"], tablefmt="github"))


if __name__ == "__main__":
    main()
