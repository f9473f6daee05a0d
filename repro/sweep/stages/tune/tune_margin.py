"""How sure a tuning stage's choice is: the winner's margin over the runner-up and the standard error of that margin,
from the finished tuning runs (repro/sweep/stages/tune/tuning.py). A margin within one standard error is warned about:
at
that noise the grid's choice is a coin toss between the two points.

Each grid point's score is the mean over its k tuning seeds of a validation accuracy on n images. One run's
accuracy has the binomial standard error sqrt(p (1 - p) / n) (on CIFAR-100's 1,000 clean meta images at 70%: 1.4
points, the size of the paper's margins); across seeds it also moves with the initialisation and the data order,
which the seeds' sample standard deviation measures once k >= 2. A point's standard error is the larger of the two
over sqrt(k) (two seeds that happen to agree do not make the binomial noise vanish), and the margin's is the root sum
of squares of the two points'. n is the validation set the runs recorded (summary `clean_labels_used`); runs that
did not record it are judged on their seeds' spread alone.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.runs.metrics import shown_scale
from repro.runs.rundir import RunDir

Scored = list[tuple[tuple[Any, ...], float, list[str]]]


@dataclass(frozen=True)
class TuneMargin:
    runner_up: tuple[Any, ...]
    margin: float  # points (percent) for an accuracy
    se: float | None  # None: one seed and no recorded validation size
    seeds: int
    images: int | None

    def text(self, point_text) -> str:
        se = "" if self.se is None else f", standard error {self.se:.2f}"
        images = f", {self.images:,} validation images" if self.images else ""
        return (
            f"margin {self.margin:.2f} points over the runner-up {point_text(self.runner_up)}"
            f"{se} ({self.seeds} tuning seed(s){images})"
        )

    @property
    def within_noise(self) -> bool:
        return self.se is not None and self.margin <= self.se

    def warning(self) -> str | None:
        if not self.within_noise:
            return None
        return (
            f"the winner's margin over the runner-up ({self.margin:.2f} points) is within one standard error "
            f"({self.se:.2f}) of {self.seeds} tuning seed(s): at this noise the choice between them is a coin toss, so "
            "tune with more seeds (tune.seeds) or a larger validation set"
        )


def tune_margin(config: Mapping[str, Any], scored: Scored, winner: tuple[Any, ...]) -> TuneMargin | None:
    """The winner's margin and its standard error (None for a grid of one point)."""
    if len(scored) < 2:
        return None
    select = str(config["tune"].get("select") or "final_val_acc")
    root = Path(config["output_root"]) / "runs"
    runner_up = max((s for s in scored if s[0] != winner), key=lambda s: s[1])
    best = next(s for s in scored if s[0] == winner)
    scale = shown_scale(select)
    parts = [_point_se(root, ids, select) for _, _, ids in (best, runner_up)]
    images = next((n for _, n in parts if n), None)
    ses = [se for se, _ in parts]
    se = None if any(s is None for s in ses) else math.sqrt(sum(s * s for s in ses)) * scale
    return TuneMargin(runner_up[0], (best[1] - runner_up[1]) * scale, se, len(best[2]), images)


def _point_se(root: Path, ids: list[str], select: str) -> tuple[float | None, int | None]:
    """(standard error of the point's mean score, validation images) from its tuning runs' summaries."""
    summaries = [RunDir(root / rid).read_summary() or {} for rid in ids]
    scores = [float(s[select]) for s in summaries if isinstance(s.get(select), (int, float))]
    sizes = [int(s["clean_labels_used"]) for s in summaries if isinstance(s.get("clean_labels_used"), int)]
    if not scores:
        return None, None
    k, p = len(scores), statistics.fmean(scores)
    n = min(sizes) if sizes else None
    binomial = math.sqrt(max(p * (1 - p), 0.0) / n) if n else None
    spread = statistics.stdev(scores) if k > 1 else None
    if binomial is None and spread is None:
        return None, n
    return max(v for v in (binomial, spread) if v is not None) / math.sqrt(k), n
