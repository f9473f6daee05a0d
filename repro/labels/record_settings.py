"""`method.record`: what a learned-label run records each epoch (top-k of the instance labels, the epochs with full
snapshots, how many classes and samples its W&B charts follow, the rows of its most-changed table), checked when the
recorders are built (repro/labels/recording.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from repro.errors import UserError


@dataclass(frozen=True)
class RecordSettings:
    """method.record: what to record. `snapshot_epochs` are 1-based, negative ones count from the end
    (-1 = last epoch); None means every epoch."""

    topk: int = 10
    snapshot_epochs: tuple[int, ...] | None = (1, -1)
    track_classes: int = 3
    track_instances: int = 6
    table_rows: int = 20

    @classmethod
    def from_config(cls, record: Mapping[str, Any] | DictConfig | None) -> RecordSettings:
        if record is None:
            return cls()
        if isinstance(record, DictConfig):
            record = OmegaConf.to_container(record, resolve=True)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - known)
        if unknown:
            raise UserError(f"method.record does not take {unknown}; it takes {sorted(known)} (docs/method.md).")
        values = {**{f.name: getattr(cls(), f.name) for f in fields(cls)}, **record}
        for key in ("topk", "track_classes", "track_instances", "table_rows"):
            value = values[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "topk" else 0):
                raise UserError(f"method.record.{key}={value!r} must be an integer >= {1 if key == 'topk' else 0}.")
        snaps = values["snapshot_epochs"]
        if snaps == "all":
            snaps = None
        elif snaps in (None, "none"):
            snaps = ()
        elif isinstance(snaps, (list, tuple)) and all(isinstance(s, int) and s != 0 for s in snaps):
            snaps = tuple(snaps)
        else:
            raise UserError(
                f"method.record.snapshot_epochs={snaps!r} must be a list of non-zero epoch numbers "
                "(1-based, -1 = the last epoch), 'all' or 'none'; e.g. [1, -1]."
            )
        values["snapshot_epochs"] = snaps
        return cls(**values)

    def takes_snapshot(self, epoch_number: int, total_epochs: int) -> bool:
        if self.snapshot_epochs is None:
            return True
        return any((s if s > 0 else total_epochs + 1 + s) == epoch_number for s in self.snapshot_epochs)
