"""Writing the ledger: <out>/ledger.md, ledger.csv and ledger.png (atomically), and printing its table.
`repro ledger` (analysis/commands.py) calls `make_ledger` with the runs it read; `repro demo` calls
`ledger_from_root` at the end of its summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from analysis.collect import collect_runs, require_runs
from analysis.ledger.build import build_ledger
from analysis.ledger.plot import ledger_png
from analysis.ledger.render import missing_lines, printed_summary, render_csv, render_markdown
from analysis.sweeps import SweepIndexes
from repro.claims.load import load_claims
from repro.runs.io import atomic_write_bytes, atomic_write_text

LEDGER = "ledger"  # the files' stem


def make_ledger(
    runs: pd.DataFrame,
    specs: Mapping[int, Any],
    *,
    out_dir: str | Path,
    output_root: str | Path,
    source: str = "",
    sweeps: str = "",
    scales: Mapping[int, Any] | None = None,
    extra_overrides: Sequence[str] | None = None,
    claims_path: str | Path | None = None,
    paper_dir: str | Path | None = None,
    tables: list[int] | None = None,
    log: Callable[[str], Any] = print,
    indexes: SweepIndexes | None = None,
) -> list[Path]:
    """Build the ledger of the claims (of `tables`, default all) from `runs` and the sweep `specs`, write it, print
    its table and the claims it cannot answer; returns the three paths."""
    require_runs(runs, source or "the run frame", "no ledger was written")
    claims = load_claims(claims_path, paper_dir, tables)
    sweeps = sweeps or ", ".join(sorted({str(Path(s.path).parent) for s in specs.values() if getattr(s, "path", None)}))
    ledger = build_ledger(
        runs,
        specs,
        claims,
        output_root=output_root,
        source=source,
        sweeps=sweeps,
        scales=scales,
        extra_overrides=extra_overrides,
        paper_dir=paper_dir,
        indexes=indexes,
    )
    out = Path(out_dir)
    written = [
        atomic_write_text(out / f"{LEDGER}.md", render_markdown(ledger)),
        atomic_write_text(out / f"{LEDGER}.csv", render_csv(ledger)),
        atomic_write_bytes(out / f"{LEDGER}.png", ledger_png(ledger)),
    ]
    answered = len(ledger.claims)
    log(f"\n== The paper's claims in these runs ({answered} answered, {len(ledger.missing)} not answered here) ==")
    for text in printed_summary(ledger):
        log(text)
    if ledger.missing:
        log("Not in these runs:\n" + "\n".join(missing_lines(ledger)))
    log(f"Ledger: {written[0]} (+ .csv, .png)")
    return written


def ledger_from_root(
    output_root: str | Path,
    specs: Mapping[int, Any],
    *,
    out_dir: str | Path,
    sweeps: str = "",
    scales: Mapping[int, Any] | None = None,
    extra_overrides: Sequence[str] | None = None,
    log: Callable[[str], Any] = print,
    indexes: SweepIndexes | None = None,
) -> list[Path]:
    """The ledger of the runs under `output_root` (what `repro demo` ends its summary with; `indexes`: its sweeps'
    results indexes)."""
    source = str(Path(output_root) / "runs")
    return make_ledger(
        collect_runs(output_root),
        specs,
        out_dir=out_dir,
        output_root=output_root,
        source=source,
        sweeps=sweeps,
        scales=scales,
        extra_overrides=extra_overrides,
        log=log,
        indexes=indexes,
    )
