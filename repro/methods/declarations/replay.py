"""The declaration of Replay (repro/methods/replay.py): its options and what a plan asks of it. The 5-fold protocol's
final stage: the fold-averaged label trajectory of the run's fold runs, replayed."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from repro.labels.fold_runs import learn_method_config
from repro.methods.declaration import MethodDeclaration
from repro.methods.registry import check_method_options, method_declaration
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


class ReplayDeclaration(MethodDeclaration):
    trainer = "repro.methods.replay:Replay"
    step_cost = PLAIN  # the replayed labels are looked up, not learned

    @schema
    class Options:
        labels: Literal["replay"] = option(why="the fold-averaged labels (the method's config file sets it)")
        static: bool = option(
            default=False, why="false: epoch e's averaged labels at epoch e; true: the last epoch's throughout"
        )
        learn: Learn = option()


@lru_cache(maxsize=64)
def _check_learned_method(name: str, overrides: tuple[str, ...]) -> None:
    node = learn_method_config({"method": name, "overrides": list(overrides)})
    check_method_options(method_declaration(str(node["name"])), node)
