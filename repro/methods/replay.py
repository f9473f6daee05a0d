"""The final stage of the 5-fold protocol (Sec. 3.1): train on the full training set with the fold-averaged label
trajectory of this run's fold runs, epoch e's labels at epoch e (or the last epoch's throughout, Table 3's static
variant). The trajectory is found and averaged by repro.labels.fold_average.replay_source."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from repro.labels.fold_runs import learn_method_config
from repro.methods import check_method_options, method_class
from repro.methods.fixed_targets import FixedTargets
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


@schema
class Learn:
    """method.learn: how the fold runs learned the labels this run replays (their configs follow from it,
    repro/labels/fold_runs.py)."""

    method: str = option(why="the method group the fold runs trained with: instance_labels | class_labels")
    overrides: list[str] = option(
        default_factory=list, why="their method.* overrides, e.g. ['method.label_lr=25'] (quoted on the command line)"
    )
    epochs: int | None = option(
        default=None, ge=1, why="the fold runs' optim.epochs when it differs from this run's (static replay only)"
    )
    lookahead_weight_decay: bool = option(
        default=False, why="the fold runs' method.lookahead_weight_decay (false: Eq. 3's look-ahead)"
    )

    def check(self) -> None:
        """The fold runs' method passes the checks its own config would (composed once per distinct node)."""
        _check_learned_method(self.method, tuple(self.overrides))


class Replay(FixedTargets):
    step_cost = PLAIN  # the replayed labels are looked up, not learned

    @schema
    class Options:
        labels: Literal["replay"] = option(why="the fold-averaged labels (the method's config file sets it)")
        static: bool = option(
            default=False, why="false: epoch e's averaged labels at epoch e; true: the last epoch's throughout"
        )
        learn: Learn = option()

    def set_epoch(self, exp, epoch: int) -> None:
        self.labels.set_epoch(epoch)


@lru_cache(maxsize=64)
def _check_learned_method(name: str, overrides: tuple[str, ...]) -> None:
    node = learn_method_config({"method": name, "overrides": list(overrides)})
    check_method_options(method_class(str(node["name"])), node)
