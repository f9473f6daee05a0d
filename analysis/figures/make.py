"""`repro figures`: every figure of the suite, rendered from finished runs' directories into PNGs (headless).

Each figure is one builder (run frame, log, where) -> PNG bytes in FIGURES, defined in its own module: Figures 2-3
of the paper in analysis/figures/labels.py, Figure 4 in analysis/figures/noise_correction.py, the label-noise methods in
analysis/figures/noise_methods.py, Sec. 3.4's targets in analysis/figures/targets.py. Each draws the runs of the paper's
selection, or of `--where` (analysis/figures/select.py), and says which. A figure without suitable runs is skipped
with a printed reason; the others still render. A selection that matches no run, or several configurations, is an
error (exit 2) naming the candidates, raised after the other figures are written.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from analysis.collect import collect_runs, require_runs
from analysis.figures.annotators import build_figure_annotator_entropy, build_figure_annotator_roc
from analysis.figures.labels import build_figure2, build_figure3
from analysis.figures.memorisation import build_figure_memorisation
from analysis.figures.noise_correction import build_figure4
from analysis.figures.noise_methods import build_figure_noise_methods
from analysis.figures.select import SelectionError, check_keys
from analysis.figures.smoothing_noise import build_figure_smoothing_noise
from analysis.figures.targets import build_figure_targets
from analysis.figures.teacher_smoothing import build_figure_teacher_smoothing
from repro.errors import UserError
from repro.figures.common import Skip
from repro.runs.io import atomic_write_bytes

__all__ = ["FIGURES", "SelectionError", "Skip", "make_figures"]


FIGURES: dict[str, Callable[..., bytes]] = {  # (frame, log, where=None) -> PNG bytes
    "figure2": build_figure2,
    "figure3": build_figure3,
    "figure4": build_figure4,
    "figure_noise_methods": build_figure_noise_methods,  # the label-noise methods beside instance labels
    "figure_targets": build_figure_targets,  # Sec. 3.4: teacher predictions vs converged labels vs smoothing
    "figure_smoothing_noise": build_figure_smoothing_noise,  # accuracy vs epsilon under noise (sweeps/table12.yaml)
    "figure_annotator_entropy": build_figure_annotator_entropy,  # learned-label entropy vs annotator disagreement
    "figure_annotator_roc": build_figure_annotator_roc,  # mislabel detection: learned labels vs loss vs cleanlab
    "figure_memorisation": build_figure_memorisation,  # memorisation of the noise per epoch, every method (table12)
    "figure_teacher_smoothing": build_figure_teacher_smoothing,  # student acc vs teacher eps under noise (table16)
}


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
    frame = collect_runs(output_root)
    require_runs(frame, f"{Path(output_root) / 'runs'}")
    check_keys(frame, where or {})
    written: dict[str, Path | None] = {}
    errors: list[str] = []
    for name in names:
        build = FIGURES[name]
        try:
            png = build(frame, log, where=where) if where and _takes_where(build) else build(frame, log)
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


def _takes_where(build: Callable[..., bytes]) -> bool:
    """Builders written before --where (or that select by other means) take (frame, log) only."""
    return "where" in inspect.signature(build).parameters


def resolve_name(name: str) -> str:
    """`2`, `figure2` or `noise_methods` -> the FIGURES key; anything else is a UserError listing them."""
    text = str(name).strip().lower()
    for key in (text, f"figure{text}", f"figure_{text}"):
        if key in FIGURES:
            return key
    raise UserError(
        f"--figures {name}: no such figure; the figures are {', '.join(FIGURES)} (or 2, 3, 4, noise_methods, targets)."
    )
