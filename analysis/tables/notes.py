"""What a rendered table says under itself beyond its cells: how many optimizer steps and training samples each row's
runs trained (so that rows on different recipes are compared knowingly), the sweep file's own `notes:` (say, which
of its rows the paper's number most likely is), each estimated T's check (repro/recorders/transition_check.py) and
the planned runs a stage let go as not needed. What a stage says of the table (the baseline gate's verdict) comes
through the sweep's results index (repro/sweep/index.py, the stages' `notes`), after these."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from repro.data.sizes import run_sizes
from repro.errors import UserError
from repro.recorders.transition_check import plan_records, render_records
from repro.training.schedule import planned_steps

REPORTED = ("single", "final")


def table_notes(spec: Any, expanded: Iterable[Any], output_root: str | Path) -> list[str]:
    """The lines for under the table, in order: steps and samples, the sweep's notes, the estimated Ts."""
    expanded = list(expanded)
    lines = []
    budget = training_budget(p for p in expanded if p.stage in REPORTED)
    if budget:
        lines.append(
            "Trained per run (each row's reported runs; optimizer steps and training samples seen, from its config): "
            + "; ".join(f"{row}: {text}" for row, text in budget.items())
            + "."
        )
    lines += list(getattr(spec, "notes", ()) or ())
    # each estimated-T cell: its runs' estimator epoch, T's diagonal mean and condition number, and any warning
    lines += render_records(plan_records((p for p in expanded if p.stage in REPORTED), output_root))
    return lines


def training_budget(runs: Iterable[Any]) -> dict[str, str]:
    """Row -> "20,000 steps of batch 100, 2.0M samples" (the distinct budgets of its runs, ' / ' between)."""
    found: dict[str, dict[str, None]] = {}
    for run in runs:
        try:
            steps, batch, samples = run_budget(run.config)
        except (KeyError, TypeError, ValueError, UserError):  # a config without the keys to count (a hand-made spec)
            continue
        text = f"{steps:,} steps of batch {batch}, {_millions(samples)} samples"
        found.setdefault(run.row, {})[text] = None
    return {row: " / ".join(texts) for row, texts in found.items()}


def run_budget(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(optimizer steps, batch size, training samples drawn) of a run, from its config alone: an iteration-based
    schedule (setting A) stops mid-epoch, its last epoch's samples counted up to the last step."""
    n_train = run_sizes(config)[0]
    batch = int(config["data"]["batch_size"])
    per_epoch = max(math.ceil(n_train / batch), 1)
    _, total = planned_steps(config["optim"], per_epoch)
    full, rest = divmod(total, per_epoch)
    return total, batch, full * n_train + min(rest * batch, n_train)


def _millions(samples: int) -> str:
    return f"{samples / 1e6:.2f}M" if samples >= 1e5 else f"{samples:,}"


def not_needed_notes(let_go: dict[str, str]) -> list[str]:
    """One note per reason a stage let planned runs go (a cell counts them neither done nor missing)."""
    return [
        f"Not needed, so neither averaged nor missing: {n} planned run(s) ({why})."
        for why, n in Counter(let_go.values()).items()
    ]
