"""Every sweep file's runs and GPU-hours, from its dry run, in one generated table: docs/costs.md. The README, the
other docs and the sweep files' headers point here (or quote a figure of it) instead of keeping their own copies,
which went stale one change at a time.

    python -m repro.commands.costs_doc > docs/costs.md

Each figure is what `repro sweep sweeps/<file> --dry-run` prints into an empty output root with the design notes' H100
figures (the built-in calibration, whatever is stored on this machine). tests/commands/test_costs_doc.py fails when
docs/costs.md and the dry runs differ, and when a total quoted in README.md, docs/ or a sweep file's header is not
this page's."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tabulate import tabulate

from repro.checkout import bundled
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import run_gpu_hours
from repro.sweep.budget.estimate import hours_text, plan_estimate
from repro.sweep.protocol.base import Asked
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep

SWEEPS = bundled("sweeps")
COMMAND = "python -m repro.commands.costs_doc > docs/costs.md"


@dataclass(frozen=True)
class SweepCost:
    """One sweep file's dry run: its unique runs, its total and its GPU-hours per stage, and the figures each
    registered stage tabulates of its prices (`DryRun.figures`: the table under each tuning strategy, the
    preflight its tuning stages declare)."""

    file: str  # sweeps/<name>.yaml
    runs: int
    stages: tuple[tuple[str, int, float], ...]  # stage, runs, GPU-hours
    total: float  # grid: every tuning stage's full grid (the paper's protocol, the default)
    at_least: bool  # FLOPs-scaled figures or unpriced runs: a lower bound
    figures: tuple[tuple[str, str], ...]  # (column, cell) of the stages' prices, in registry order


@contextmanager
def built_in_figures() -> Iterator[None]:
    """Price with the design notes' H100 figures: no calibration stored on this machine is read."""
    before = os.environ.get("REPRO_CALIBRATION_DIR")
    with tempfile.TemporaryDirectory() as empty:
        os.environ["REPRO_CALIBRATION_DIR"] = empty
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("REPRO_CALIBRATION_DIR", None)
            else:
                os.environ["REPRO_CALIBRATION_DIR"] = before


def sweep_cost(path: Path) -> SweepCost:
    """The dry run of one sweep file, into an empty output root."""
    with built_in_figures(), tempfile.TemporaryDirectory() as root:
        plan = plan_sweep(load_sweep(path), output_root=Path(root), asked=Asked(dry_run=True))
        est = plan_estimate(plan)
        figures = tuple(figure for decision in plan.decisions.values() for figure in decision.dry_run.figures)
        cal = load_calibration()
    per_stage: dict[str, list[float]] = {}
    for run in plan.unique.values():
        entry = per_stage.setdefault(run.stage, [0, 0.0])
        entry[0] += 1
        entry[1] += run_gpu_hours(run.config, cal, run.share) or 0.0
    return SweepCost(
        file=path.relative_to(SWEEPS.parent).as_posix(),
        runs=len(plan.unique),
        stages=tuple((stage, int(n), hours) for stage, (n, hours) in per_stage.items()),
        total=est.total,
        at_least=bool(est.lower_bound or est.unpriced),
        figures=figures,
    )


def render(costs: list[SweepCost]) -> str:
    columns = list(dict.fromkeys(column for c in costs for column, _ in c.figures))
    body = [
        [
            f"`{c.file}`",
            c.runs,
            hours_text(c.total, c.at_least),
            *(dict(c.figures).get(column, "-") for column in columns),
            "; ".join(f"{s} {n} / {hours_text(h)}" for s, n, h in c.stages),
        ]
        for c in costs
    ]
    table = tabulate(
        body,
        headers=["sweep file", "runs", "H100-hours", *columns, "per stage (runs / hours)"],
        tablefmt="github",
        disable_numparse=True,
    )
    return f"""# Runs and GPU-hours per sweep file

Generated: `{COMMAND}` (do not edit by hand). Each row is the dry run of one sweep file into an empty output root,
`repro sweep sweeps/<file> --dry-run`, which prints the same figures: its unique runs (tuning runs and the teachers
it plans included; runs shared with other tables are counted in each table that uses them) and their GPU-hours,
every run priced by the step cost its method declares with the design notes' H100 figures, no calibration
(docs/budget.md). "at least": AlexNet, ResNet-32/56 and the small networks have no H100 figure and are priced from
ResNet18's by forward FLOPs, a lower bound. "with halving": every tuning stage that pins no strategy run by
successive halving (`--tune-strategy halving`, eta 3, the first rung past the warm-up and at a quarter of the epochs
or later, at least eta points trained to the end; its worst case) instead of the full grid, the paper's protocol and
the default; the stages a sweep file pins to the grid (temperatures, the noisy tables) stay on it, so a table whose
every stage is pinned costs the same either way (docs/cluster.md says when to choose which). A tuned run that is its
winning tuning run (`where: []`, a tuning seed) is priced at nothing: it takes that run's records. "preflight
first": the runs at the grid's corners that a tuning stage declaring `preflight: true` trains for a few epochs before
its tuning runs (docs/budget.md); they are not in the totals. The columns after "H100-hours" are the figures each
registered stage tabulates of its prices (the tuning stage's, repro/sweep/stages/tune/halving_cost.py).
tests/commands/test_costs_doc.py fails when this page and the dry runs differ, and when a total quoted in README.md,
docs/ or a sweep file's header differs from this page.

{table}
"""


def sweep_files() -> list[Path]:
    """The paper's tables in their order (table1 ... table8, then ours: table10 ...), the other sweep files, then the
    digits demo's (sweeps/demo/, `repro demo`)."""

    def order(path: Path) -> tuple[bool, int, str]:
        number = path.stem.removeprefix("table")
        return (not number.isdigit(), int(number) if number.isdigit() else 0, path.stem)

    return sorted(SWEEPS.glob("*.yaml"), key=order) + sorted(SWEEPS.glob("demo/*.yaml"), key=order)


def main() -> int:
    costs = [sweep_cost(path) for path in sweep_files()]
    sys.stdout.write(render(costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
