"""Warnings when a tuning stage may have missed: read from its finished tuning runs, shown by the sweep's output,
`repro sweep status`, `repro tables` and in the tuned runs' summary (and so in W&B).

Three cases (the third: repro/sweep/stages/tune/tune_margin.py, the winner's margin within one standard error):
- the winner sits on the edge of a numeric grid axis (its smallest or largest value, on an axis of at least
  MIN_AXIS_POINTS values): the best value may lie beyond the grid, so extend the axis that way;
- the winner's learned labels barely moved: their mean total variation from the initial labels at the last epoch
  (`final_label_change_mean`, repro/labels/recording.py) is below MOVED_THRESHOLD, so they acted as fixed targets (label
  smoothing at their initial value) and "Ours" would score as label smoothing does, for reasons of the grid.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Mapping

from repro.runs.rundir import RunDir
from repro.sweep.stages.tune.tune_margin import tune_margin

# Below this mean total variation between the final and the initial labels, the labels "barely moved": under 2% of
# a label's probability mass was moved on average. On CIFAR with 40% noise, relabelling only the noisy samples'
# given class by half would already be 0.4 * 0.5 = 0.2; a learning that moved 2% has changed next to nothing.
MOVED_THRESHOLD = 0.02
# An axis of two values has no inside: every winner is on its edge, and a warning would say nothing. A smallest value
# of 0 (a temperature, an epsilon, a rate) is the quantity's own bound: nothing lies below it, no warning either.
MIN_AXIS_POINTS = 3
CHANGE_KEY = "label_change_mean"


def label_change(rd: RunDir) -> float | None:
    """A finished run's mean total variation between its final and initial labels (None: it learns no labels)."""
    summary = rd.read_summary() if rd.is_done() else None
    value = (summary or {}).get(f"final_{CHANGE_KEY}")
    if value is None and rd.path.joinpath("metrics.jsonl").exists():  # runs summarised before the key existed
        rows = rd.read_metrics()
        value = rows[-1].get(CHANGE_KEY) if rows else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def edge_warnings(keys: list[str], points: list[tuple[Any, ...]], winner: tuple[Any, ...]) -> list[str]:
    """One warning per numeric axis (>= MIN_AXIS_POINTS values) whose winning value is its smallest or largest."""
    out = []
    for axis, key in enumerate(keys):
        values = sorted({p[axis] for p in points if _number(p[axis])})
        if len(values) < MIN_AXIS_POINTS or not _number(winner[axis]):
            continue
        if winner[axis] == values[-1]:
            out.append(
                f"the winner's {key}={winner[axis]:g} is the largest value of the grid ({_list(values)}): "
                f"the best may lie above it, so extend {key} upward"
            )
        elif winner[axis] == values[0] and values[0] > 0:  # below 0 there is nothing: a temperature or lr of 0
            out.append(
                f"the winner's {key}={winner[axis]:g} is the smallest value of the grid ({_list(values)}): "
                f"the best may lie below it, so extend {key} downward"
            )
    return out


def movement_warning(changes: list[float]) -> str | None:
    """A warning when the winner's tuning runs' labels moved less than MOVED_THRESHOLD on average."""
    if not changes:
        return None
    moved = statistics.fmean(changes)
    if moved >= MOVED_THRESHOLD:
        return None
    return (
        f"the winner's labels barely moved (mean total variation from their initial values {moved:.4f} < "
        f"{MOVED_THRESHOLD}: under {MOVED_THRESHOLD:.0%} of a label's probability mass moved), so they acted as "
        "fixed targets: extend the label learning rate's grid upward"
    )


def tuning_warnings(
    config: Mapping[str, Any], scored: list[tuple[tuple[Any, ...], float, list[str]]], winner: tuple[Any, ...]
) -> list[str]:
    """The warnings of a tuned config's finished tuning stage (`scored`, `winner`:
    repro.sweep.stages.tune.tuning.results/choose)."""
    keys = list(config["tune"]["keys"])
    grid = [tuple(e["values"]) for e in config["tune"].get("runs") or []] or [p for p, _, _ in scored]
    out = edge_warnings(keys, grid, winner)  # the whole grid's edges (successive halving scores its finalists only)
    root = Path(config["output_root"]) / "runs"
    ids = next(ids for p, _, ids in scored if p == winner)
    changes = [c for c in (label_change(RunDir(root / rid)) for rid in ids) if c is not None]
    moved = movement_warning(changes)

    margin = tune_margin(config, scored, winner)  # a margin within the noise (repro/sweep/stages/tune/tune_margin.py)
    close = margin.warning() if margin is not None else None
    return out + [w for w in (moved, close) if w]  # no "; " inside a warning: the summary's one string joins with it


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _list(values: list[Any]) -> str:
    return ", ".join(f"{v:g}" for v in values)
