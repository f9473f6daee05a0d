"""The paper's tables regenerated from runs, beside the published numbers (Markdown + CSV per table).

Takes the run frame (analysis/collect.py) and the table sweep files (analysis/sweeps.py); gives a TableResult per
table (analysis/tables/model.py) and writes it (analysis/tables/render.py). Which runs make which cell comes from the
table's sweep file (sweeps/tableN.yaml, the single source of truth), through its results index (repro/sweep/index.py,
built once per table): each cell's *reported* runs (stage "single" or "final"; "fold" runs only learn labels) with
their records, less those a stage let go as not needed, and what each stage says of the table (`notes`). A cell
averages the reported runs that are done; every other planned run (failed, running, interrupted, not started) is
counted and named under the table, never averaged in.

Statistics: mean and *sample* standard deviation (ddof=1, the usual "mean ± std over 3 runs"; with one run there is
no std) over the finished seeds, with n. Runs store accuracies as fractions in [0, 1]; the paper prints percent, so
accuracy metrics are multiplied by 100 and differences are in percentage points.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from analysis.cells import index_runs
from analysis.collect import DONE, require_runs
from analysis.sweeps import SweepIndex, SweepIndexes, sweep_index
from analysis.tables.model import Cell, PendingRun, TableResult
from analysis.tables.notes import not_needed_notes, table_notes
from analysis.tables.paper import paper_or_empty
from analysis.tables.paper_selection import selection_rules
from analysis.tables.render import render_csv, render_markdown
from repro.data.noise import describes_noise
from repro.errors import UserError
from repro.runs.io import atomic_write_text
from repro.runs.metrics import is_accuracy

NOT_STARTED = "not started"


# ------------------------------------------------------------------------------------------------ building


def build_table(
    number: int,
    spec: Any,
    runs: pd.DataFrame,
    paper: pd.DataFrame,
    *,
    output_root: str | Path,
    source: str = "",
    scale: Any = None,
    extra_overrides: Sequence[str] = (),
    paper_dir: str | Path | None = None,
) -> TableResult:
    """One table of the sweep `spec` expanded with `scale` and `extra_overrides` (those the sweep ran with: they are
    part of the runs' ids), from `runs` (the run frame): `table_of` on its results index."""
    index = sweep_index(
        spec, index_runs(runs), output_root=output_root, scale=scale, extra_overrides=list(extra_overrides)
    )
    return table_of(number, index, paper, source=source, paper_dir=paper_dir)


def table_of(
    number: int, index: SweepIndex, paper: pd.DataFrame, *, source: str = "", paper_dir: str | Path | None = None
) -> TableResult:
    """One table: the paper's cells, and ours from the reported runs of the sweep's results index."""
    spec, expanded = index.spec, index.runs
    reported = index.reported()
    planned = [c.planned for c in reported]
    by_id = index.records
    tune_ids = {p.run_id for p in expanded if p.stage in ("tune", "teacher tune")}
    metric = str(spec.metric)
    percent = is_accuracy(metric)

    rows = _ordered([*paper["row"], *spec.rows, *(p.row for p in planned)])
    columns = _ordered([*paper["column"], *spec.columns, *(p.column for p in planned)])
    cells: dict[tuple[str, str], Cell] = {}
    for rec in paper.to_dict("records"):
        cells[(rec["row"], rec["column"])] = Cell(
            rec["row"], rec["column"], paper=rec, cited=rec["row"] not in spec.rows
        )
    for p, run in ((c.planned, c.run) for c in reported):
        cell = cells.setdefault((p.row, p.column), Cell(p.row, p.column))
        cell.cited = False
        cell.planned += 1
        data_name = _data_name(p.config, run)
        if data_name:
            cell.data_sets = tuple(sorted({*cell.data_sets, *data_name}))
        value = run.get(metric) if run is not None else None
        if run is not None and run["state"] == DONE and _finite(value):
            cell.values.append(float(value) * (100.0 if percent else 1.0))
            cell.seeds.append(p.seed)
            cell.commits.add(str(run.get("commit") or "unknown"))
            cell.precisions.add(str(run.get("precision") or "fp32"))
            cell.clean_labels.append(clean_labels_text(run))
            if isinstance(run.get("tuned"), str) and run["tuned"]:  # a run that picked tuned values on validation
                cell.tuned.append(run["tuned"])
            _add_selection_views(cell, run, percent)
            continue
        if run is None:
            state, message = NOT_STARTED, ""
        elif run["state"] == DONE:
            state, message = "done", f"its summary has no {metric}"
        else:
            state, message = str(run["state"]), str(run.get("message") or "")
        cell.pending.append(PendingRun(p.run_id, p.row, p.column, p.seed, state, message))
        cell.tuning = cell.tuning or _failed_tuning(p, by_id, tune_ids)
    needs = dict(getattr(spec, "needs", {}) or {})
    not_run = dict(getattr(spec, "not_run", {}) or {})
    for cell in cells.values():
        cell.needs = str(needs.get(cell.row, "")) if not cell.cited else ""
        cell.why_not_run = str(not_run.get(cell.row, "")) if cell.cited else ""
        if len(cell.data_sets) > 1:
            raise UserError(
                f"Table {number}, cell {cell.row!r} / {cell.column!r} mixes data sets ({', '.join(cell.data_sets)}): "
                "a cell averages seeds of one configuration, so its runs must share data.name. The sweep file or the "
                "runs source mixes runs of different data sets under one cell; fix the sweep's grid, or read only one "
                "output_root / W&B project at a time."
            )
    selection = selection_rules(number, paper_dir)
    for cell in cells.values():
        cell.paper_selection = selection.get(cell.row, "") if cell.paper is not None else ""
    groups = {r["row"]: r["group"] for r in paper.to_dict("records") if r.get("group")}
    return TableResult(
        number,
        metric,
        percent,
        rows,
        columns,
        cells,
        source,
        groups,
        expansion=index.expansion,
        title=str(getattr(spec, "title", "") or ""),
        heading=list(index.notes.heading),
        noisy=any(_noisy(p.config) for p in planned),
        notes=[
            *not_needed_notes(index.not_needed),
            *table_notes(spec, expanded, index.output_root),
            *index.notes.under,
        ],
    )


def _add_selection_views(cell: Cell, run: dict[str, Any], percent: bool) -> None:
    """What an averaged run adds beside the table's metric: the test accuracy at its best-validation epoch (runs
    with a validation set), and its tuning warnings (repro/sweep/stages/tune/tune_warnings.py)."""
    at_best = run.get("test_acc_at_best_val")
    if _finite(at_best):
        cell.best_val.append(float(at_best) * (100.0 if percent else 1.0))
    for warning in str(run.get("tune_warning") or "").split("; ") if isinstance(run.get("tune_warning"), str) else []:
        if warning and warning not in cell.tune_warnings:
            cell.tune_warnings.append(warning)
    rungs = run.get("tune_rungs_text")  # successive halving: each rung's leader beside the winner the cell shows
    if isinstance(rungs, str) and rungs and rungs not in cell.tune_rungs:
        cell.tune_rungs.append(rungs)


def _failed_tuning(planned: Any, by_id: dict[str, dict[str, Any]], tune_ids: set[str]) -> str:
    """Why a planned run cannot start: tuning runs it waits for failed (empty when none did)."""
    tuning = [d for d in planned.depends_on if d in tune_ids]
    failed = [d for d in tuning if (by_id.get(d) or {}).get("state") == "failed"]
    if not failed:
        return ""
    return (
        f"{len(failed)} of its {len(tuning)} tuning runs failed, so it did not start; `repro sweep status "
        "FILE` shows their logs, `repro sweep FILE` trains them again"
    )


def clean_labels_text(run: dict[str, Any]) -> str:
    """ "meta set (1,000)", "validation only (1,000)", "none": a run's clean labels beyond its noisy training labels
    (summary fields of repro.training.clean_labels; runs from before they were recorded say so)."""
    use, count = run.get("clean_labels_use"), run.get("clean_labels_used")
    if not isinstance(use, str) or not _finite(count):
        return "not recorded"
    return use if use == "none" else f"{use} ({int(count):,})"


def _noisy(config: Any) -> bool:
    """Whether a planned run's config asks for label noise (the noise model's own answer)."""
    noise = config.get("noise") if isinstance(config, dict) else None
    try:
        return isinstance(noise, dict) and describes_noise(noise)
    except UserError:
        return False


def _data_name(config: Any, run: dict[str, Any] | None) -> set[str]:
    names = set()
    if isinstance(config, dict) and isinstance(config.get("data"), dict) and config["data"].get("name"):
        names.add(str(config["data"]["name"]))
    if run is not None and isinstance(run.get("data.name"), str):
        names.add(run["data.name"])
    return names


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ordered(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ------------------------------------------------------------------------------------------------ writing


def make_tables(
    runs: pd.DataFrame,
    specs: dict[int, Any],
    *,
    out_dir: str | Path,
    output_root: str | Path,
    source: str = "",
    paper_dir: str | Path | None = None,
    scale: Any = None,
    extra_overrides: Sequence[str] | None = None,
    log: Callable[[str], Any] = print,
    indexes: SweepIndexes | None = None,
) -> list[Path]:
    """Build every table of `specs` ({number: sweep spec}, see analysis/sweeps.py), then write them
    atomically. Nothing is written when there are no runs or a table fails to build; a table that plans runs but none
    of them exist is skipped (an older good file stays). A table whose sweep plans no runs yet is written: paper
    numbers and why.

    With neither `scale` nor `extra_overrides` given, each sweep is expanded as its last `repro sweep` into
    `output_root` ran it (see analysis/sweeps.py `last_sweep_options`). `indexes`: the sweeps' results indexes,
    where the command built them already (`repro demo`: its tables, figures and ledger share them)."""
    require_runs(runs, source or "the run frame", "no tables were written")
    if indexes is None:
        options = {number: (scale, extra_overrides) for number in specs}
        indexes = SweepIndexes(specs, index_runs(runs), output_root, options=options)
    results = []
    for number in specs:
        index = indexes.index(number)
        assert index is not None  # every table of `specs` has its sweep file
        result = table_of(number, index, paper_or_empty(number, paper_dir), source=source, paper_dir=paper_dir)
        planned = sum(c.planned for c in result.cells.values())
        found = sum(1 for p in result.pending if p.state != NOT_STARTED) + result.averaged
        if planned and not found:  # probably another output_root or scale: keep whatever file is there
            log(f"Table {number}: none of its {planned} planned runs is in {source or 'the runs'}; not written.")
            continue
        results.append(result)
    if not any(r.averaged or r.pending for r in results):
        raise UserError(
            f"None of the runs in {source or 'the run frame'} belong to table(s) "
            f"{', '.join(map(str, specs))} as their sweep files define them, so no table was written. Were the runs "
            "made from these sweep files (same grid and scale)? `repro sweep status sweeps/tableN.yaml` shows which "
            "runs a table expects."
        )
    written = []
    out_dir = Path(out_dir)
    for result in results:
        for warning in result.mixing_warnings():
            logging.getLogger(__name__).warning("warning: %s", warning)
        md = atomic_write_text(out_dir / f"table{result.number}.md", render_markdown(result))
        atomic_write_text(out_dir / f"table{result.number}.csv", render_csv(result))
        written.append(md)
        log(
            f"Table {result.number}: {result.averaged} runs averaged, {len(result.pending)} not averaged "
            f"-> {md} (+ .csv)"
        )
    return written
