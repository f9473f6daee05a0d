"""The final stage of the 5-fold protocol (Sec. 3.1): train on the full training set with the fold-averaged label
trajectory of this run's fold runs, epoch e's labels at epoch e (or the last epoch's throughout, Table 3's static
variant). The trajectory is found and averaged by repro.labels.fold_average.replay_source."""

from __future__ import annotations

from repro.methods.fixed_targets import FixedTargets
from repro.validation import Bool, Finite, Int, Text


class Replay(FixedTargets):
    options = ("labels", "static", "learn")
    rules = {
        "labels": Finite(),
        "static": Bool(),
        "learn.method": Finite(),                  # the fold runs' method group: checked when they are composed
        "learn.overrides.*": Text(),
        "learn.epochs": Int(1, nullable=True),
        "learn.lookahead_weight_decay": Bool(),    # the fold runs' look-ahead form
    }

    def set_epoch(self, exp, epoch: int) -> None:
        self.labels.set_epoch(epoch)
