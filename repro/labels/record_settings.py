"""`method.record`: what a learned-label run records each epoch (top-k of the instance labels, the epochs with full
snapshots, how many classes and samples its W&B charts follow, the rows of its most-changed table). `RecordSettings`
is the declaration of the `method.record` node (the learned-label methods' options nest it; checked when the config
loads) and the settings the recorders read (repro/labels/recording.py)."""

from __future__ import annotations

from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from repro.schema import build, option, schema
from repro.schema.rules import SnapshotEpochs


@schema
class RecordSettings:
    """method.record: what to record."""

    topk: int = option(default=10, ge=1, why="top-k classes + probabilities per training sample, every epoch")
    snapshot_epochs: Any = option(
        default_factory=lambda: (1, -1),
        rule=SnapshotEpochs(),
        why='full (N, C) float16 snapshots at these epochs (1-based, -1 = the last), or "all" / "none"',
    )
    track_classes: int = option(default=3, ge=0, why="W&B line charts: the classes followed")
    track_instances: int = option(default=6, ge=0, why="W&B line charts: the training samples followed")
    table_rows: int = option(default=20, ge=0, why="W&B table of the most changed instances")

    @classmethod
    def from_config(cls, record: Mapping[str, Any] | DictConfig | None) -> RecordSettings:
        """The settings of a run's (checked) `method.record` node; keys it leaves out take their defaults."""
        if isinstance(record, DictConfig):
            record = OmegaConf.to_container(record, resolve=True)  # type: ignore[assignment]
        return build(cls, record or {})

    @property
    def snapshots(self) -> tuple[int, ...] | None:
        """The snapshot epochs: None for every epoch, () for none."""
        if self.snapshot_epochs == "all":
            return None
        if self.snapshot_epochs in (None, "none"):
            return ()
        return tuple(self.snapshot_epochs)

    def takes_snapshot(self, epoch_number: int, total_epochs: int) -> bool:
        snapshots = self.snapshots
        if snapshots is None:
            return True
        return any((s if s > 0 else total_epochs + 1 + s) == epoch_number for s in snapshots)
