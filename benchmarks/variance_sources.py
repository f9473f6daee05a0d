"""How far Table 6's differences on MNIST-1D move when what a seed holds fixed is changed: the data set itself
(`data.generator.seed`, which every seed of the MNIST-1D sweeps leaves at the mnist1d package's default 42) and the
1-D CNN's width (`model.channels`, 32 in every MNIST-1D sweep). The
ledger's intervals cover the run's seed only (initialisation, batch order, augmentation; analysis/ledger/variance.py),
so this measures what they leave out, and docs/mnist1d.md ("Another data draw") reports it.

It trains sweeps/mnist1d/table6.yaml (the rows its claims read; `--seeds N`: its first N seeds) once per data draw
(`--draws`, default 42 = the default data set, 1 and 2) and once per width of the default draw (`--widths`, none
by default) into one output root (run ids differ by the draw and the width; the default draw's runs at the default
width are `repro demo --mnist1d`'s, read with `--read`), locally, up to --jobs runs at once, then prints each claim
line's difference and 95% interval per source (the ledger's own computation, analysis/ledger/build.py) and how far
each moved from the first source's: outside its interval or not.

    python -m benchmarks.variance_sources --root /tmp/mnist1d --jobs 2
    python -m benchmarks.variance_sources --root /tmp/redraw --draws 1 2 --jobs 1     # beside a running demo's root
    python -m benchmarks.variance_sources --root /tmp/redraw --read /tmp/mnist1d --draws 42 1 2 --no-train
    python -m benchmarks.variance_sources --root /tmp/wide --read /tmp/mnist1d --draws 42 --widths 64 --seeds 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.sweeps import load_specs, run_locally
from repro.checkout import CHECKOUT_ROOT
from repro.claims.load import load_claims

SWEEPS = CHECKOUT_ROOT / "sweeps" / "mnist1d"
TABLE = 6
RUN_OVERRIDES = ["progress=none", "tracker=none"]  # as `repro demo --mnist1d` runs them: the same run ids
DRAW_KEY = "data.generator.seed"
WIDTH_KEY = "model.channels"  # the 1-D CNN's width (repro/conf/networks.py), the same in every row of the table
DEFAULT_DRAW = 42


def sources(draws: list[int], widths: list[int]) -> dict[str, list[str]]:
    """{label: the overrides every run of that source gets}: each data draw at the default width, then each width on
    the first draw. A value equal to the default leaves the run id unchanged, so the demo's runs are found."""
    found = {f"draw {d}": [*RUN_OVERRIDES, f"{DRAW_KEY}={d}"] for d in draws}
    base = draws[0] if draws else DEFAULT_DRAW
    found.update({f"width {w}": [*RUN_OVERRIDES, f"{DRAW_KEY}={base}", f"{WIDTH_KEY}={w}"] for w in widths})
    return found


def table_spec(seeds: int | None) -> Any:
    """Table 6's MNIST-1D sweep, kept to the rows its claims read (its first `seeds` seeds when given)."""
    spec = load_specs(SWEEPS, [TABLE])[TABLE]
    rows = {t.row for claim in load_claims(tables=[TABLE]) for t in claim.terms}
    spec = spec.select(rows=[row for row in spec.rows if row in rows])
    return spec.select(seeds=spec.seeds[:seeds]) if seeds else spec


def train(root: Path, by_source: dict[str, list[str]], jobs: int, seeds: int | None) -> None:
    spec = table_spec(seeds)
    sweeps = [(spec, None, overrides, f"\n== MNIST-1D Table 6, {label} ==") for label, overrides in by_source.items()]
    trained, failed, _ = run_locally(sweeps, output_root=root, jobs=jobs, threads=1, report=print)
    print(f"trained {len(trained)} run(s); failed or skipped: {len(failed)}")


def report(roots: list[Path], by_source: dict[str, list[str]], seeds: int | None) -> str:
    """The ledger's Table 6 lines per source, from the runs under every root (a run's id does not depend on its
    root)."""
    spec = table_spec(seeds)
    claims = load_claims(tables=[TABLE])
    runs = pd.concat([collect_runs(root) for root in roots], ignore_index=True)
    root = roots[0]
    found = {}
    for label, overrides in by_source.items():
        ledger = build_ledger(runs, {TABLE: spec}, claims, output_root=root, extra_overrides=overrides)
        found[label] = {(line.claim.name, line.anchor): line for line in ledger.lines}
    first, *others = by_source
    rows = []
    for key, line in found[first].items():
        low, high = line.ours.interval()
        row = [key[0], f"{line.ours.diff:+.2f} [{low:+.2f}, {high:+.2f}] {line.verdict}"]
        for label in others:
            other = found[label].get(key)
            if other is None:
                row.append("no runs")
                continue
            o_low, o_high = other.ours.interval()
            outside = "outside" if not low <= other.ours.diff <= high else "inside"
            row.append(
                f"{other.ours.diff:+.2f} [{o_low:+.2f}, {o_high:+.2f}] {other.verdict}; moved "
                f"{other.ours.diff - line.ours.diff:+.2f}, {outside} {first}'s interval"
            )
        rows.append(row)
    headers = ["Claim (MNIST-1D/40%)", first, *others]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, type=Path, help="output root the draws' runs are trained into")
    parser.add_argument("--read", type=Path, nargs="*", default=[], help="more output roots whose runs to read "
                        "(e.g. `repro demo --mnist1d`'s, which holds the default draw)")  # fmt: skip
    parser.add_argument("--draws", type=int, nargs="+", default=[42, 1, 2], help="data.generator.seed values")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, help="the sweep's first N seeds only (every draw alike)")
    parser.add_argument("--no-train", action="store_true", help="only report on the runs already there")
    parser.add_argument("--widths", type=int, nargs="*", default=[], help=f"{WIDTH_KEY} values, on the first draw")
    args = parser.parse_args()
    by_source = sources(args.draws, args.widths)
    if not args.no_train:
        train(args.root, by_source, args.jobs, args.seeds)
    print(report([args.root, *args.read], by_source, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
