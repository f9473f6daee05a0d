"""`repro figures`: every figure of the suite, rendered from finished runs' directories into PNGs (headless).

Each figure is a Figure (analysis/figures/figure.py: choose its runs, then draw them) in FIGURES, defined in its own
module: Figures 2-3
of the paper in analysis/figures/labels.py, Figure 4 in analysis/figures/noise_correction.py, the label-noise methods in
analysis/figures/noise_methods.py, Sec. 3.4's targets in analysis/figures/targets.py. Each draws the runs of the paper's
selection, or of `--where` (analysis/figures/select.py), and says which. A figure without suitable runs is skipped
with a printed reason; the others still render. A selection that matches no run, or several configurations, is an
error (exit 2) naming the candidates, raised after the other figures are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from analysis.collect import collect_runs, require_runs
from analysis.figures import (
    annotators,
    labels,
    memorisation,
    noise_correction,
    noise_methods,
    smoothing_noise,
    targets,
    teacher_smoothing,
)
from analysis.figures.figure import Chosen, Figure, FigureRuns
from analysis.figures.select import SelectionError, check_keys
from repro.errors import UserError
from repro.figures.common import Skip
from repro.runs.io import atomic_write_bytes

__all__ = ["FIGURES", "SelectionError", "Skip", "chosen_runs", "make_figures"]


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure("figure2", labels.choose_figure2, labels.draw_figure2),
        Figure("figure3", labels.choose_figure3, labels.draw_figure3),
        Figure("figure4", noise_correction.choose_figure4, noise_correction.draw_figure4),
        # the label-noise methods beside instance labels
        Figure("figure_noise_methods", noise_methods.choose, noise_methods.draw),
        # Sec. 3.4: teacher predictions vs converged labels vs smoothing
        Figure("figure_targets", targets.choose, targets.draw),
        # accuracy vs epsilon under noise (sweeps/table12.yaml)
        Figure("figure_smoothing_noise", smoothing_noise.choose, smoothing_noise.draw),
        # learned-label entropy vs annotator disagreement
        Figure("figure_annotator_entropy", annotators.choose_entropy, annotators.draw_entropy),
        # mislabel detection: learned labels vs loss vs cleanlab
        Figure("figure_annotator_roc", annotators.choose_roc, annotators.draw_roc),
        # memorisation of the noise per epoch, every method (table12)
        Figure("figure_memorisation", memorisation.choose, memorisation.draw),
        # student acc vs teacher eps under noise (table16)
        Figure("figure_teacher_smoothing", teacher_smoothing.choose, teacher_smoothing.draw),
    )
}


def figure_runs(output_root: str | Path, where: Mapping[str, str] | None = None) -> FigureRuns:
    """What every figure chooses from: the runs under `output_root` and the user's `--where`."""
    frame = collect_runs(output_root)
    require_runs(frame, f"{Path(output_root) / 'runs'}")
    check_keys(frame, where or {})
    return FigureRuns(frame, dict(where or {}))


def chosen_runs(
    output_root: str | Path, *, where: Mapping[str, str] | None = None, only: Sequence[str] | None = None
) -> dict[str, Chosen]:
    """The runs each figure (or each in `only`) would draw, without drawing; figures without suitable runs are left
    out. A selection error is raised."""
    runs = figure_runs(output_root, where)
    chosen: dict[str, Chosen] = {}
    for name in list(FIGURES) if not only else [resolve_name(n) for n in only]:
        try:
            chosen[name] = FIGURES[name].choose(runs)
        except Skip:
            continue
    return chosen


def make_figures(
    output_root: str | Path,
    *,
    out_dir: str | Path,
    log: Callable[[str], Any] = print,
    where: Mapping[str, str] | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, Path | None]:
    """Render every figure (or those in `only`) that has suitable runs into `<out_dir>/<name>.png`; skip the others
    with a reason. `where`: {config key: value} over the paper's selection of each figure (analysis/figures/select.py).
    Selection errors are raised together, as one UserError, after the other figures are written."""
    names = list(FIGURES) if not only else [resolve_name(n) for n in only]
    runs = figure_runs(output_root, where)
    written: dict[str, Path | None] = {}
    errors: list[str] = []
    for name in names:
        figure = FIGURES[name]
        try:
            png = figure.draw(figure.choose(runs), log)
        except SelectionError as exc:  # the selection is ambiguous or matches nothing: said once all are done
            errors.append(str(exc))
            written[name] = None
            continue
        except (Skip, UserError) as exc:  # no suitable runs, or their records cannot be read: the others still render
            log(f"{name.capitalize()} skipped: {exc}")
            written[name] = None
            continue
        written[name] = atomic_write_bytes(Path(out_dir) / f"{name}.png", png)
        log(f"{name.capitalize()} -> {written[name]}")
    if errors:
        raise UserError(" ".join(errors))  # one paragraph: each message starts with its figure's name
    return written


def resolve_name(name: str) -> str:
    """`2`, `figure2` or `noise_methods` -> the FIGURES key; anything else is a UserError listing them."""
    text = str(name).strip().lower()
    for key in (text, f"figure{text}", f"figure_{text}"):
        if key in FIGURES:
            return key
    raise UserError(
        f"--figures {name}: no such figure; the figures are {', '.join(FIGURES)} (or 2, 3, 4, noise_methods, targets)."
    )
