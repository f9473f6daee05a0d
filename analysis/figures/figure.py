"""What a figure is, for `repro figures` (analysis/figures/make.py): a name, how it chooses its runs and how it
draws them. Every figure has the same two steps, so that which runs a figure drew is known before any drawing and
can be printed and tested on its own:

- `choose(runs: FigureRuns) -> Chosen`: the run ids of each part of the figure (a panel, a line, a method), and
  whatever the drawing needs of them; raises Skip (no suitable runs) or SelectionError (an ambiguous or empty
  `--where`);
- `draw(chosen: Chosen, log) -> bytes`: the PNG (repro.figures.common.png_bytes); may still raise Skip (e.g. no
  noisy sample was corrected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

Log = Callable[[str], Any]


@dataclass(frozen=True)
class FigureRuns:
    """What a figure chooses from: the run frame (analysis/collect.py) and the user's `--where` (config key ->
    value)."""

    frame: pd.DataFrame
    where: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Chosen:
    """The runs a figure draws, by part (part name -> run ids), and what its drawing needs of them."""

    runs: dict[str, list[str]]
    data: Any = None

    def run_ids(self) -> list[str]:
        """Every run the figure draws, each once, in part order."""
        return list(dict.fromkeys(rid for ids in self.runs.values() for rid in ids))


@dataclass(frozen=True)
class Figure:
    name: str
    choose: Callable[[FigureRuns], Chosen]
    draw: Callable[[Chosen, Log], bytes]
