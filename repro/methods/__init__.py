"""Training methods behind one interface (repro.methods.base.Method). `method.name` picks the class here;
adding a method is one module (its class declares its options and their config rules), one line in METHODS and one
config file repro/conf/method/<name>.yaml."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from repro.errors import UserError
from repro.methods.base import Method, NonFiniteLossError, StepOutput, optimizer_step
from repro.validation import check_tree, prefixed

__all__ = [
    "METHODS",
    "Method",
    "NonFiniteLossError",
    "StepOutput",
    "build_method",
    "check_method_config",
    "check_method_ready",
    "method_class",
    "method_rules",
    "optimizer_step",
]

# method.name -> "module:Class" (imported only when a run uses it).
METHODS: dict[str, str] = {
    "baseline": "repro.methods.fixed_targets:FixedTargets",
    "label_smoothing": "repro.methods.fixed_targets:FixedTargets",
    "confidence_penalty": "repro.methods.fixed_targets:FixedTargets",
    "class_labels": "repro.methods.learned_labels:LearnedLabels",
    "instance_labels": "repro.methods.learned_labels:LearnedLabels",
    "replay": "repro.methods.replay:Replay",
    "focal_loss": "repro.methods.focal_loss:FocalLoss",
    "coteaching": "repro.methods.coteaching:CoTeaching",
    "l2rw": "repro.methods.l2rw:L2RW",
    "mwnet": "repro.methods.mwnet:MetaWeightNet",
    "data_parameters": "repro.methods.data_parameters:DataParameters",
    "distillation": "repro.methods.distillation:Distillation",
    "transferred_labels": "repro.methods.transferred_labels:TransferredLabels",
    "loss_correction": "repro.methods.loss_correction:LossCorrection",
    "label_smearing": "repro.methods.label_smearing:LabelSmearing",
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise UserError(
            f"method.name={name!r} names no method; the methods are: {', '.join(METHODS)}. "
            "Pick one with method=<name> (each has a config file in repro/conf/method/)."
        )
    module, _, cls = METHODS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def method_rules(cls: type[Method]) -> Mapping[str, Any]:
    """The config rules `cls` declares next to its code (its own `rules`, not a parent's: a subclass reads other
    options)."""
    if "rules" not in vars(cls):
        raise TypeError(
            f"{cls.__module__}.{cls.__name__} declares no config rules: set `rules = {{option: rule}}` "
            "(repro/validation.py's rule types; `{}` for a method without options) next to `options`."
        )
    return cls.rules


def _plain(node: Any) -> Any:
    """The method node as a plain dict: a DictConfig, or the sweep planner's read-only view of one (to_dict)."""
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)
    return node.to_dict() if hasattr(node, "to_dict") else dict(node)


def check_method_config(cfg: DictConfig) -> None:
    """Refuse, before any work, options the method does not read and a meta-set method without a meta set."""
    method = cfg.method
    cls = method_class(str(method.name))
    unknown = sorted(set(method) - {"name", *cls.options})
    if unknown:
        raise UserError(
            f"method={method.name} does not take the option(s) {', '.join('method.' + k for k in unknown)}; it "
            f"takes: {', '.join('method.' + k for k in cls.options) or 'none'}. Check the spelling, or pick the "
            "method whose option it is."
        )
    check_tree({"method": _plain(method)}, prefixed("method", method_rules(cls)))
    cls.check(method)
    if cls.needs_meta_set and bool(cfg.split.full_train):
        raise UserError(
            f"method={method.name} learns on a clean meta set, but split.full_train=true leaves none; use "
            "split=holdout (or split=noisy), or, for learned labels, replay them with method=replay."
        )
    if cls.needs_meta_set and str(cfg.split.get("held_out_labels", "clean")) != "clean":
        raise UserError(
            f"method={method.name} learns on a clean meta set, but split.held_out_labels="
            f"{cfg.split.held_out_labels} gives the held-out part noisy labels; leave split.held_out_labels=clean."
        )


def check_method_ready(cfg: DictConfig) -> None:
    """Before a run starts: what its method reads from other runs exists and is finished (teachers, searches)."""
    method_class(str(cfg.method.name)).check_ready(cfg)


def build_method(cfg: DictConfig, exp) -> Method:
    """The run's method, built from its config, which was validated once before (`repro.config.load_config`, or
    when its sweep was planned)."""
    return method_class(str(cfg.method.name))(cfg.method, exp)
