"""How the paper's cited numbers were selected over training (paper_tables/paper/selection.csv): a peer row taken
from another paper may be its best test epoch (Meta-Weight-Net's script) or a fixed epoch (Data Parameters: 84),
while ours is the final epoch, or the best-validation epoch, never selected on test. `repro tables` notes the rule
beside the numbers so that unlike is not read as like."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.tables.paper import PAPER_DIR

FILE = "selection.csv"


def selection_rules(number: int, paper_dir: str | Path | None = None) -> dict[str, str]:
    """{row: how the paper's numbers of that row in table `number` were selected}; empty where none is known."""
    path = Path(paper_dir or PAPER_DIR) / FILE
    if not path.exists():
        return {}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    rows = frame[frame["table"] == str(int(number))]
    return dict(zip(rows["row"], rows["selection"]))
