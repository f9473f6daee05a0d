"""What an epoch costs beyond its steps and evaluation passes, and the per-epoch prices `--dry-run` prints.

A real epoch is not only `steps x step time + evaluated images x forward time`: it starts its loaders, sets up the
evaluation, warms its first batches, records the labels, saves a checkpoint; and a step inside an epoch also loads
its batches (a look-ahead its meta batch too), which a step timed on batches already on the device does not. `repro
bench` times whole short epochs of each kind at two lengths (repro/commands/bench_epoch.py): the slope is a step's
cost inside an epoch (stored as its ratio to the isolated step, `epoch_step_ratio`), the intercept less the
evaluation is the per-epoch fixed cost (`epoch_fixed_ms`). The estimate (repro/sweep/budget/costs.py) prices a step
times that ratio and adds the fixed cost once per epoch. The design notes' H100 figures carry their fixed cost too
(repro/sweep/budget/calibration.py). A model the calibration did not time takes the reference model's fixed cost
scaled by the same FLOPs ratio as its steps (a lower bound, like them).
"""

from __future__ import annotations

from typing import Any, Mapping

from repro.training.step_cost import PLAIN, StepCost


def _figure(table: Mapping[str, Mapping[str, float]] | None, model: str, kind: StepCost) -> float | None:
    """The model's figure for `kind`, else for the kind its estimate names (a weight look-ahead: the label
    look-ahead's), else for plain steps: `repro bench` times whole epochs of the plain and label look-ahead kinds."""
    figures = (table or {}).get(model) or {}
    keys = [kind.key, *([kind.estimate[0]] if kind.estimate else []), PLAIN.key]
    value = next((figures[k] for k in keys if k in figures), None)
    return float(value) if isinstance(value, (int, float)) else None


def epoch_fixed_ms(cal: Any, model: str, kind: StepCost, flops_ratio: float = 1.0) -> float:
    """ms per epoch beyond its steps and evaluation, for `model` and step `kind` (0 when never measured)."""
    fixed = _figure(cal.epoch_fixed_ms, model, kind)
    if fixed is not None:
        return fixed
    reference = next((m for m in (cal.epoch_fixed_ms or {}) if m in cal.steps_ms), None)
    base = _figure(cal.epoch_fixed_ms, reference, kind) if reference else None
    return 0.0 if base is None else base * flops_ratio


def epoch_step_ratio(cal: Any, model: str, kind: StepCost) -> float:
    """A step inside a real epoch over the step `repro bench` timed alone (loading its batches; 1 when unknown)."""
    ratio = _figure(cal.epoch_step_ratio, model, kind)
    return ratio if ratio is not None and ratio > 0 else 1.0
