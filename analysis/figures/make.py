"""`repro figures`: every figure of the suite, rendered from finished runs' directories into PNGs (headless).

Takes an output root (its run directories) and a directory of sweep files; gives `<out>/<name>.png` per figure.
Each figure is a Figure in FIGURES (analysis/figures/figure.py: the sweep cells each part draws, how it chooses its
runs among them, how it draws them), defined in its own module: Figures 2-3 of the paper in labels.py, Figure 4 in
noise_correction.py, the label-noise methods in noise_methods.py, Sec. 3.4's targets in targets.py, and the suite's
own comparisons beside them. Each draws its cells' runs (the paper's columns, or `--where`: select.py), and says
which. A figure without suitable runs is skipped with a printed reason; the others still render. A selection that
matches no run, or several cells, is an error (exit 2) naming the candidates, raised after the other figures are
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from analysis.cells import index_runs
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
from analysis.figures.where import SelectionError, check_keys
from analysis.sweeps import SweepIndexes, load_specs
from repro.errors import UserError
from repro.figures.common import Skip
from repro.runs.io import atomic_write_bytes

__all__ = ["FIGURES", "SelectionError", "Skip", "chosen_runs", "make_figures"]


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in (
        Figure("figure2", labels.FIGURE2, labels.choose_figure2, labels.draw_figure2),
        Figure("figure3", labels.FIGURE3, labels.choose_figure3, labels.draw_figure3),
        Figure("figure4", noise_correction.FIGURE4, noise_correction.choose_figure4, noise_correction.draw_figure4),
        # the label-noise methods beside instance labels
        Figure("figure_noise_methods", noise_methods.CELLS, noise_methods.choose, noise_methods.draw),
        # Sec. 3.4: teacher predictions vs converged labels vs smoothing
        Figure("figure_targets", targets.CELLS, targets.choose, targets.draw),
        # accuracy vs epsilon under noise (table 12)
        Figure("figure_smoothing_noise", smoothing_noise.CELLS, smoothing_noise.choose, smoothing_noise.draw),
        # learned-label entropy vs annotator disagreement (tables 14, 15)
        Figure("figure_annotator_entropy", annotators.CELLS, annotators.choose_entropy, annotators.draw_entropy),
        # mislabel detection: learned labels vs loss vs cleanlab (tables 14, 15)
        Figure("figure_annotator_roc", annotators.CELLS, annotators.choose_roc, annotators.draw_roc),
        # memorisation of the noise per epoch, every method (table 12)
        Figure("figure_memorisation", memorisation.CELLS, memorisation.choose, memorisation.draw),
        # student acc vs teacher eps under noise (table 16)
        Figure("figure_teacher_smoothing", teacher_smoothing.CELLS, teacher_smoothing.choose, teacher_smoothing.draw),
    )
}


def figure_runs(
    output_root: str | Path,
    *,
    sweeps_dir: str | Path = "sweeps",
    where: Mapping[str, str] | None = None,
    indexes: SweepIndexes | None = None,
) -> FigureRuns:
    """What every figure chooses from: the runs under `output_root`, the results indexes of the sweep files of
    `sweeps_dir` on them (each built once, when a figure asks, as its last `repro sweep` into that root ran it),
    `--where`; `indexes`: those the command built already (`repro demo`'s)."""
    frame = collect_runs(output_root)
    require_runs(frame, f"{Path(output_root) / 'runs'}", "no figures were written")
    check_keys(frame, where or {})
    plans = indexes or SweepIndexes(load_specs(sweeps_dir), index_runs(frame), output_root, where=str(sweeps_dir))
    return FigureRuns(frame, plans, dict(where or {}))


def chosen_runs(
    output_root: str | Path,
    *,
    sweeps_dir: str | Path = "sweeps",
    where: Mapping[str, str] | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, Chosen]:
    """The runs each figure (or each in `only`) would draw, without drawing; figures without suitable runs are left
    out. A selection error is raised."""
    runs = figure_runs(output_root, sweeps_dir=sweeps_dir, where=where)
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
    sweeps_dir: str | Path = "sweeps",
    log: Callable[[str], Any] = print,
    where: Mapping[str, str] | None = None,
    only: Sequence[str] | None = None,
    indexes: SweepIndexes | None = None,
) -> dict[str, Path | None]:
    """Render every figure (or those in `only`) that has suitable runs into `<out_dir>/<name>.png`; skip the others
    with a reason. `sweeps_dir`: the sweep files whose cells the figures draw (analysis/figures/figure.py); `where`:
    {config key: value} that moves them (analysis/figures/where.py). Selection errors are raised together, as one
    UserError, after the other figures are written."""
    names = list(FIGURES) if not only else [resolve_name(n) for n in only]
    runs = figure_runs(output_root, sweeps_dir=sweeps_dir, where=where, indexes=indexes)
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
