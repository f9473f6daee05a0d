"""Progress display: a tqdm bar with live loss/accuracy on a terminal, one plain line per epoch in cluster logs."""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm

from repro.errors import UserError

MODES = ("auto", "bar", "plain", "none")


class _EpochBar:
    def __init__(self, owner: EpochProgress, epoch: int, steps: int):
        self.owner = owner
        self.bar = None
        if owner.mode == "bar":
            self.bar = tqdm(
                total=steps,
                desc=f"epoch {epoch + 1}/{owner.total_epochs}",
                leave=False,
                dynamic_ncols=True,
                file=sys.stderr,
            )

    def update(self, **stats: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in stats.items()}, refresh=False)

    def close(self, row: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.owner.mode in ("bar", "plain"):
            print(self.owner.format_row(row), flush=True)


class EpochProgress:
    def __init__(self, *, mode: str, total_epochs: int, run_id: str):
        if mode not in MODES:
            raise UserError(f"progress={mode!r} is not known; use one of {', '.join(MODES)}.")
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "plain"
        self.mode, self.total_epochs, self.run_id = mode, total_epochs, run_id

    def start_epoch(self, epoch: int, steps: int) -> _EpochBar:
        return _EpochBar(self, epoch, steps)

    def format_row(self, row: dict[str, Any]) -> str:
        parts = [f"[{self.run_id}] epoch {row['epoch']}/{self.total_epochs}"]
        for key in ("lr", "train_loss", "train_acc", "val_acc", "test_acc", "seconds"):
            if key in row:
                parts.append(f"{key}={row[key]:.4g}")
        return " ".join(parts)

    def close(self) -> None:
        pass
