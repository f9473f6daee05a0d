"""What the figures share: the run group a label figure draws (its cells' finished runs whose label kind draws the
panel, analysis/figures/select.py) and the printed line saying which runs a figure drew; the run's data, class
names, captions and the matplotlib helpers (headless Agg, PNG) live in the core (repro/figures/common.py), where the
W&B page draws one run's panels too."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from analysis.figures.figure import Cells, FigureRuns
from analysis.figures.select import select_group
from repro.data.noise import describes_noise
from repro.errors import UserError
from repro.figures.common import RunGroup
from repro.labels.registry import Panel, kinds_drawing
from repro.runs.rundir import RunDir


def pick_group(runs: FigureRuns, name: str, cells: Cells, *, panel: Panel, noisy: bool | None) -> RunGroup:
    """The runs figure part `name` draws among its `cells` (analysis/figures/select.py): finished runs whose label
    kind can be drawn as `panel` (its `panels`, repro/labels/registry.py), with a recorded label trajectory, and
    label noise (noisy=True), none (False) or either (None)."""
    kinds = kinds_drawing(panel)
    labels = "/".join(kinds)
    what = (
        f"finished {labels}-label runs"
        + {True: " with label noise", False: " without label noise", None: ""}[noisy]
        + f" with a label trajectory (method={labels}_labels{', noise.fraction > 0' if noisy else ''})"
    )

    def usable(rd: RunDir, config: dict) -> bool:
        method = config.get("method") or {}
        return (
            method.get("labels") in kinds
            and (rd.labels_dir / "manifest.json").exists()
            and (noisy is None or has_label_noise(config) == noisy)
        )

    return select_group(runs, name, cells, what=what, usable=usable)


def has_label_noise(config: dict) -> bool:
    """The noise model's own answer (annotators' labels are noise without a noise.fraction)."""
    try:
        return describes_noise(config.get("noise") or {})
    except UserError:
        return False


def announce(log: Callable[[str], Any], figure: str, groups: Mapping[str, RunGroup | None]) -> None:
    """Print which runs each part of a figure drew."""
    for part, group in groups.items():
        if group is not None:
            log(f"{figure} draws {part}: {group.describe()}")
