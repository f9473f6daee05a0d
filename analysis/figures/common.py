"""What the figures share: run selection (analysis/figures/select.py: the paper's runs, or --where) and the printed
line saying which runs a figure drew; the run's data, class names, captions and the matplotlib helpers (headless
Agg, PNG) live in the core (repro/figures/common.py), where the W&B page draws one run's panels too."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from analysis.collect import DONE
from analysis.figures.select import select_group
from repro.errors import UserError
from repro.figures.common import RunGroup
from repro.labels.registry import Panel, kinds_drawing
from repro.runs.rundir import RunDir

# ------------------------------------------------------------------------------------------------ run selection


def pick_group(
    frame: pd.DataFrame,
    *,
    panel: Panel,
    noisy: bool | None,
    name: str | None = None,
    where: Mapping[str, str] | None = None,
) -> RunGroup:
    """The runs figure part `name` draws (analysis/figures/select.py) among done runs whose label kind can be drawn
    as `panel` (its `panels`, repro/labels/registry.py), with a recorded label trajectory, and label noise
    (noisy=True), none (False) or either (None). `name` defaults to the figure part these runs feed: figure2/class,
    figure2/instance, figure4 (noisy)."""
    kinds = kinds_drawing(panel)
    labels = "/".join(kinds)
    name = name or ("figure4" if noisy else f"figure2/{labels}")
    done = frame[frame["state"] == DONE] if "method.labels" in frame else frame.iloc[0:0]
    candidates = done[done["method.labels"].isin(kinds)] if len(done) else done
    what = (
        f"finished {labels}-label runs"
        + {True: " with label noise", False: " without label noise", None: ""}[noisy]
        + f" with a label trajectory (method={labels}_labels{', noise.fraction > 0' if noisy else ''})"
    )

    def usable(rd: RunDir, config: dict) -> bool:
        return (rd.labels_dir / "manifest.json").exists() and (noisy is None or has_label_noise(config) == noisy)

    return select_group(frame, name, candidates, what=what, where=where, usable=usable)


def has_label_noise(config: dict) -> bool:
    """The noise model's own answer (annotators' labels are noise without a noise.fraction)."""
    from repro.data.noise import describes_noise

    try:
        return describes_noise(config.get("noise") or {})
    except UserError:
        return False


def announce(log: Callable[[str], Any], figure: str, groups: Mapping[str, RunGroup | None]) -> None:
    """Print which runs each part of a figure drew."""
    for part, group in groups.items():
        if group is not None:
            log(f"{figure} draws {part}: {group.describe()}")
