"""The final stage of the 5-fold protocol (Sec. 3.1): train on the full training set with the fold-averaged label
trajectory of this run's fold runs, epoch e's labels at epoch e (or the last epoch's throughout, Table 3's static
variant). The trajectory is found and averaged by repro.labels.fold_average.replay_source."""

from __future__ import annotations

from repro.methods.declarations.replay import ReplayDeclaration
from repro.methods.fixed_targets import FixedTargets


class Replay(FixedTargets, declaration=ReplayDeclaration):
    def set_epoch(self, exp, epoch: int) -> None:
        self.labels.set_epoch(epoch)
