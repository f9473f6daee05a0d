"""What `repro demo` prints at its end: one table of every cell it ran (table, row, column, ours), the CPU it ran on,
the files it wrote. The docs quote this output verbatim (docs/demo.md, docs/mnist1d.md) and tests read it back, so
its layout lives here, in one place."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from tabulate import tabulate

from repro.runs.provenance import cpu_info


def summary_rows(tables: list[Path]) -> list[list[str]]:
    """[table, row, column, ours] for every cell the demo ran, read back from the CSVs just written."""
    rows = []
    for md in tables:
        frame = pd.read_csv(md.with_suffix(".csv"))
        if "ours_planned" not in frame:  # annotators.md: measures, not a sweep table's cells
            continue
        for rec in frame[frame["ours_planned"] > 0].to_dict("records"):
            rows.append([str(rec["table"]), rec["row"], rec["column"], rec["ours"]])
    return rows


def print_summary(
    tables: list[Path],
    figures: dict[str, Path | None],
    *,
    trained: list[str],
    failed: list[str],
    size: str,
    seconds: float,
    names: tuple[str, ...],
    data: str = "digits",
) -> None:
    """The demo's last words: each cell it ran with our number, where its tables and `names` figures are, and how
    many runs it trained in how long; `size` is the demo's ("full", "quick"). tests/recorded_sources.py reads this
    layout back from the pages that quote it."""
    print(f"\n== Demo summary ({size}) ==")
    print(
        f"Final test accuracy (%) on {data}, mean ± sample std over seeds (n = seeds done); the paper's CIFAR "
        "numbers are beside ours in each table file."
    )
    print(ran_on())
    print(tabulate(summary_rows(tables), headers=["table", "row", "column", "ours"], tablefmt="simple"))
    print("\nTables:")
    for md in tables:
        print(f"  {_shown(md)}  {_shown(md.with_suffix('.csv'))}")
    print("Figures:")
    for name in names:
        path = figures.get(name)
        print(f"  {_shown(path)}" if path else f"  {name}: not written (the reason is printed above)")
    print(
        f"\n{len(set(trained))} run(s) trained now"
        + (f", {len(set(failed))} failed or skipped (see the sweep output above)" if failed else "")
        + f"; {seconds:.0f} s in all."
    )


def ran_on() -> str:
    """One line naming the CPU and its kernels: the same seeds end apart on another CPU, even one with the same
    vector instructions (docs/demo.md, "Across CPUs")."""
    cpu = cpu_info()
    return (
        f"Ran on: {cpu['model']}, torch {torch.__version__} with {cpu['capability']} kernels (on another CPU, even "
        "with the same vector instructions, the same seeds end apart: up to about a point in the noisy table)."
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
