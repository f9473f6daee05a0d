"""Replayed labels: the final stage of the 5-fold protocol trains on a finished trajectory instead of learning.

Why this module: it reads labels (lazily, one epoch at a time, from a callable over trajectory files) rather than
computing or learning them, and its only state is the epoch it serves.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels.base import LabelParametrisation


class ReplayLabels(LabelParametrisation):
    """Replays a stored label trajectory (Sec. 3.1: the final model trains on fold-averaged labels):
    epoch e's labels at epoch e, or, with static=True (Table 3), the last epoch's labels throughout.

    `trajectory(e)` returns the (N, C) labels of epoch e, for e in [0, num_epochs).
    """

    def __init__(
        self,
        trajectory: Callable[[int], Tensor],
        num_epochs: int,
        static: bool = False,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not callable(trajectory):
            raise UserError("ReplayLabels needs a function epoch -> (N, C) label tensor.")
        if int(num_epochs) != num_epochs or num_epochs < 1:
            raise UserError(f"A replayed label trajectory needs at least one epoch, got num_epochs={num_epochs}.")
        self.trajectory = trajectory
        self.num_epochs = int(num_epochs)
        self.static = bool(static)
        self.dtype = dtype
        self.device = torch.device("cpu")
        self.epoch = 0
        self._loaded_epoch: int | None = None
        self._labels: Tensor | None = None

    def source_epoch(self) -> int:
        """The trajectory epoch whose labels are served now."""
        return self.num_epochs - 1 if self.static else self.epoch

    def set_epoch(self, epoch: int) -> None:
        if not 0 <= epoch < self.num_epochs and not self.static:
            raise UserError(
                f"The replayed label trajectory has epochs 0..{self.num_epochs - 1} but epoch {epoch} was "
                "requested; train the final model for as many epochs as the runs that learned the labels, "
                "or replay the static (last-epoch) labels."
            )
        self.epoch = int(epoch)

    def _current(self) -> Tensor:
        source = self.source_epoch()
        if self._loaded_epoch != source:
            labels = torch.as_tensor(self.trajectory(source)).to(device=self.device, dtype=self.dtype)
            if labels.dim() != 2 or not bool(torch.isfinite(labels).all()) or bool((labels < 0).any()):
                raise UserError(
                    f"The replayed labels of epoch {source} must be a finite, non-negative (N, C) matrix; "
                    f"got shape {tuple(labels.shape)}. The trajectory files may be corrupt."
                )
            self._labels, self._loaded_epoch = labels, source
        assert self._labels is not None
        return self._labels

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        labels = self._current()
        return labels[idx.to(labels.device)]

    def to(self, device: torch.device | str) -> ReplayLabels:
        """Serve labels on `device` (loaded there lazily, one epoch at a time)."""
        self.device = torch.device(device)
        self._loaded_epoch, self._labels = None, None
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.set_epoch(int(state["epoch"]))
