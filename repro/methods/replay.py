"""The final stage of the 5-fold protocol (Sec. 3.1): train on the full training set with the fold-averaged label
trajectory of this run's fold runs, epoch e's labels at epoch e (or the last epoch's throughout, Table 3's static
variant). The trajectory is found and averaged by repro.fold_average.replay_source."""

from __future__ import annotations

from repro.methods.fixed_targets import FixedTargets
from repro.methods.step_cost import PLAIN


class Replay(FixedTargets):
    step_cost = PLAIN  # the replayed labels are looked up, not learned
    options = ("labels", "static", "learn")

    def set_epoch(self, exp, epoch: int) -> None:
        self.labels.set_epoch(epoch)
