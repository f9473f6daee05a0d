"""`repro figures`: every figure of the suite, rendered from finished runs' directories into PNGs (headless).

Each figure is one builder (run frame, log) -> PNG bytes in FIGURES, defined in its own module: Figures 2-4 of the
paper in analysis/figure_labels.py, the label-noise methods in analysis/figure_noise.py, Sec. 3.4's targets in
analysis/figure_targets.py. A figure without suitable runs is skipped with a printed reason; the others still
render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd

from analysis.collect import collect_runs, require_runs
from analysis.figure_common import RunGroup, Skip, pick_group, run_data
from analysis.figure_labels import build_figure2, build_figure3, build_figure4
from analysis.figure_noise import build_figure_noise_methods
from analysis.figure_smoothing_noise import build_figure_smoothing_noise
from analysis.figure_targets import build_figure_targets
from repro.errors import UserError
from repro.io import atomic_write_bytes

__all__ = ["FIGURES", "RunGroup", "Skip", "make_figures", "pick_group", "run_data"]


FIGURES: dict[str, Callable[[pd.DataFrame, Callable[[str], Any]], bytes]] = {
    "figure2": build_figure2,
    "figure3": build_figure3,
    "figure4": build_figure4,
    "figure_noise_methods": build_figure_noise_methods,  # the label-noise methods beside instance labels
    "figure_targets": build_figure_targets,  # Sec. 3.4: teacher predictions vs converged labels vs smoothing
    "figure_smoothing_noise": build_figure_smoothing_noise,  # accuracy vs epsilon under noise (sweeps/table12.yaml)
}


def make_figures(output_root: str | Path, *, out_dir: str | Path, log: Callable[[str], Any] = print
                 ) -> dict[str, Path | None]:
    """Render every figure that has suitable runs into `<out_dir>/<name>.png`; skip the others with a reason."""
    frame = collect_runs(output_root)
    require_runs(frame, f"{Path(output_root) / 'runs'}")
    written: dict[str, Path | None] = {}
    for name, build in FIGURES.items():
        try:
            png = build(frame, log)
        except (Skip, UserError) as exc:  # no suitable runs, or their records cannot be read: the others still render
            log(f"{name.capitalize()} skipped: {exc}")
            written[name] = None
            continue
        written[name] = atomic_write_bytes(Path(out_dir) / f"{name}.png", png)
        log(f"{name.capitalize()} -> {written[name]}")
    return written
