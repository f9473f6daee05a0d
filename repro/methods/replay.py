"""The final stage of the 5-fold protocol (Sec. 3.1): train on the full training set with the fold-averaged label
trajectory of this run's fold runs, epoch e's labels at epoch e (or the last epoch's throughout, Table 3's static
variant). The trajectory is found and averaged by repro.labels.fold_average.replay_source."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from omegaconf import DictConfig, OmegaConf

from repro.labels.fold_runs import learn_method_config
from repro.methods import method_class, method_rules
from repro.methods.fixed_targets import FixedTargets
from repro.methods.step_cost import PLAIN
from repro.validation import Bool, Finite, Int, Text, check_tree, prefixed


class Replay(FixedTargets):
    step_cost = PLAIN  # the replayed labels are looked up, not learned
    options = ("labels", "static", "learn")
    rules = {
        "labels": Finite(),
        "static": Bool(),
        "learn.method": Finite(),  # the fold runs' method group: checked when they are composed
        "learn.overrides.*": Text(),
        "learn.epochs": Int(1, nullable=True),
        "learn.lookahead_weight_decay": Bool(),  # the fold runs' look-ahead form
    }

    @staticmethod
    def check(cfg: DictConfig) -> None:
        """The fold runs' method (`learn.method` + `learn.overrides`) passes the checks its own config would:
        composed once per distinct learn node, then its rules and its own check (repro.methods)."""
        learn = cfg.get("learn") or {}
        _check_learned_method(str(learn.get("method")), tuple(str(o) for o in learn.get("overrides") or ()))

    def set_epoch(self, exp, epoch: int) -> None:
        self.labels.set_epoch(epoch)


@lru_cache(maxsize=64)
def _check_learned_method(name: str, overrides: tuple[str, ...]) -> None:
    node: dict[str, Any] = learn_method_config({"method": name, "overrides": list(overrides)})
    cls = method_class(str(node["name"]))
    check_tree({"method": node}, prefixed("method", method_rules(cls)))
    cls.check(OmegaConf.create(node))
