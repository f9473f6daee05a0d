"""Per-epoch recorders: what a run writes beyond the metrics row (label trajectories, noise correction, ...).

A recorder has `on_epoch_end(exp, epoch, row, tracker)` (it may add keys to `row` before it is logged) and
`summary() -> dict` (extra summary fields).
"""

from __future__ import annotations

from typing import Any


def build_recorders(exp: Any) -> list:
    """The recorders that apply to this run's method and data."""
    return []
