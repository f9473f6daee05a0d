"""Whether an estimated T can be trusted: the estimator network it came from, and flags for a T that came from a
network at chance, from inside the lr warm-up, or that is near uniform.

Patrini et al.'s selection rule (the estimator's epoch of lowest loss on the held-out part's noisy labels,
repro/recorders/transition_estimate.py) stays the default: it is the source's. But on a short schedule it can pick a
network that has learned nothing yet: on digits it picked epoch 1 (noisy held-out loss 2.32, ln 10 = 2.30), and the
forward correction with that T reached 27.8% against one-hot's 79.6% (docs/methods/loss_correction.md). So every
estimated-T run records, as soon as it has built its T (before its first epoch), `<run>/transition_estimate.json`
(transition_record.py builds it from the tensor):
the estimator's epoch, its noisy held-out loss and validation accuracy there, T's diagonal mean and condition number,
and the warnings below. The run prints them and puts them in its summary; `repro sweep status` and the rendered table
show them, so the first estimated-T run of a sweep tells the user before the other cells spend.

Flags (thresholds and why):
- at chance: the estimator's held-out accuracy at its epoch (`val_acc`, on the labels its held-out part carries, clean
  or noisy: chance is 1/C either way) is at most CHANCE_FACTOR / C = 1.5 / C. A network that has learned anything
  is far above: a perfect classifier agrees with labels under uniform noise at rate f on 1 - f + f/C of them (0.28 at
  f = 0.8 on 10 classes), and on digits the epoch-1 network above scored 0.117, the best-validation one 0.90. Only
  where no accuracy was logged, the noisy held-out loss decides: at least (1 - CHANCE_MARGIN) ln C, a uniform guess
  scoring ln C. It is not the rule where the accuracy is known, because a good network's noisy held-out loss is
  above ln C as soon as it is confident on held-out images whose labels are wrong: on digits at 40% noise, 2.32 at
  epoch 1 (chance) but 3.06 at epoch 4 (the best-validation epoch, whose T is the best of the run).
- warm-up: the estimator's epoch is inside its lr warm-up (epoch <= optim.warmup_epochs): a network from there was
  trained at a fraction of its lr for a few epochs, not at the point the rule was made for (before memorisation).
- near uniform: T's diagonal mean is less than NEAR_UNIFORM of the way from uniform (1/C) to the identity (1). Uniform
  noise at rate f has exactly 1 - f there, so below 0.1 the estimate says more than 90% of the labels are random
  (no table here goes beyond 80%), and its inverse scales the backward loss by about ten.
The condition number is shown, not flagged (the backward correction refuses a T above 1e6:
repro/data/noise/transition.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

from repro.runs.io import atomic_write_json, read_json

ESTIMATE_DIR = "estimate"  # a run's folder of the networks it keeps for an estimate (transition_estimate.py)
KEPT = ("best_val", "noisy_val_loss")  # the method.estimate_at rules whose network a noisy run keeps


def kept_files(run_path: str | Path, rule: str) -> list[Path]:
    """The files a run keeps of the network `rule` (one of KEPT) selects: its softmax, their rows, its record (written
    by repro/recorders/transition_estimate.py, which reads them back)."""
    folder = Path(run_path) / ESTIMATE_DIR
    return [folder / f"{rule}_probs.npy", folder / "rows.npy", folder / f"{rule}.json"]


RECORD_FILE = "transition_estimate.json"
CHANCE_FACTOR = 1.5  # a held-out accuracy at most 1.5 / C is chance (module docstring)
CHANCE_MARGIN = 0.02  # without an accuracy: a noisy held-out loss within 2% of ln C is chance
NEAR_UNIFORM = 0.1  # a diagonal mean within 10% of the way from 1/C to 1 is near uniform


def checked_record(
    c: int,
    diag_mean: float,
    condition: float,
    *,
    estimator_run: str,
    estimate_at: str,
    epoch: int | None,
    noisy_val_loss: float | None,
    val_acc: float | None,
    warmup_epochs: int,
) -> dict[str, Any]:
    """What a run records of its estimated T (`c` classes, T's diagonal mean and condition number:
    transition_record.py computes them from the tensor), with its warnings (an empty list: none)."""
    warnings = []
    if at_chance(c, val_acc=val_acc, noisy_val_loss=noisy_val_loss):
        shown = [] if val_acc is None else [f"held-out accuracy {val_acc:.3f} against 1/C = {1 / c:.3f}"]
        if noisy_val_loss is not None:
            shown.append(f"noisy held-out loss {noisy_val_loss:.3f} against ln {c} = {math.log(c):.3f}")
        warnings.append(
            f"the estimator network (run {estimator_run}, epoch {epoch}) is no better than chance: {', '.join(shown)}"
        )
    if epoch is not None and epoch <= warmup_epochs:
        warnings.append(f"the estimator's epoch {epoch} is inside its lr warm-up (optim.warmup_epochs={warmup_epochs})")
    if (diag_mean - 1 / c) / (1 - 1 / c) < NEAR_UNIFORM:
        warnings.append(
            f"the estimated T is near uniform: diagonal mean {diag_mean:.3f} against 1/C = {1 / c:.3f} (the noise "
            "it implies is above 90%)"
        )
    if warnings:
        other = "" if estimate_at == "best_val" else ", or pick its network with method.estimate_at=best_val"
        warnings[-1] += (
            f"; a correction with this T may be far below one-hot: check the estimator{other} "
            "(docs/methods/loss_correction.md)"
        )
    return {
        "estimator_run": estimator_run,
        "estimate_at": estimate_at,
        "estimator_epoch": epoch,
        "estimator_noisy_val_loss": noisy_val_loss,
        "estimator_val_acc": val_acc,
        "transition_diag_mean": diag_mean,
        "transition_condition": condition,
        "transition_estimate_warnings": warnings,
        "transition_estimate_warning": "; ".join(warnings),  # one string: W&B's summary takes no lists
    }


def at_chance(num_classes: int, *, val_acc: float | None, noisy_val_loss: float | None) -> bool:
    """Whether the estimator network is no better than chance (module docstring): by its held-out accuracy, or, where
    none was logged, by its noisy held-out loss."""
    if val_acc is not None:
        return val_acc <= CHANCE_FACTOR / num_classes
    return noisy_val_loss is not None and noisy_val_loss >= (1 - CHANCE_MARGIN) * math.log(num_classes)


def estimator_epoch_metrics(
    metrics: list[dict[str, Any]], epoch: int | None
) -> tuple[int | None, float | None, float | None]:
    """(epoch, noisy held-out loss, validation accuracy) of the estimator's metrics row of `epoch` (1-based; None:
    its last, the final network's), each None where the run did not log it."""
    if not metrics:
        return epoch, None, None
    row = metrics[-1] if epoch is None else next((r for r in metrics if int(r.get("epoch", -1)) == epoch), {})
    loss, acc = row.get("noisy_val_loss"), row.get("val_acc")
    at = epoch if epoch is not None else row.get("epoch")
    return at, (None if loss is None else float(loss)), (None if acc is None else float(acc))


def write_record(run_path: str | Path, record: dict[str, Any]) -> None:
    atomic_write_json(Path(run_path) / RECORD_FILE, record)


def read_record(run_path: str | Path) -> dict[str, Any] | None:
    """The run's record of its estimated T, or None (no estimated T, not started, or unreadable)."""
    path = Path(run_path) / RECORD_FILE
    try:
        return read_json(path) if path.exists() else None
    except (OSError, ValueError):
        return None


def describe(record: dict[str, Any]) -> str:
    """'estimator epoch 1 (noisy_val_loss rule), noisy held-out loss 2.321, diagonal mean 0.231, condition 41.2'."""
    parts = [f"estimator epoch {record.get('estimator_epoch')} ({record.get('estimate_at')} rule)"]
    if record.get("estimator_noisy_val_loss") is not None:
        parts.append(f"noisy held-out loss {record['estimator_noisy_val_loss']:.3f}")
    parts.append(f"diagonal mean {record['transition_diag_mean']:.3f}")
    parts.append(f"condition {record['transition_condition']:.3g}")
    return ", ".join(parts)


def render_records(records: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Lines for a sweep's status or under a table: per label (a cell), its estimated-T runs' records in one line,
    then a WARNING line per warning of each."""
    cells: dict[str, list[dict[str, Any]]] = {}
    for label, record in records:
        cells.setdefault(label, []).append(record)
    lines = []
    for label, found in cells.items():
        lines.append(f"Estimated T, {label}: " + "; ".join(describe(r) for r in found) + ".")
        lines += [f"  WARNING: {w}" for r in found for w in r.get("transition_estimate_warnings") or []]
    return lines


def plan_records(runs: Iterable[Any], output_root: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """(row / column, record) of each planned run (a sweep's PlannedRun) under `output_root` that estimated its T,
    in plan order; a run that has not built its T yet has none."""
    found = []
    for run in runs:
        record = read_record(Path(output_root) / "runs" / run.run_id)
        if record is not None:
            found.append((f"{run.row} / {run.column}", record))
    return found
