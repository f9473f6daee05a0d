"""Training methods behind one interface (repro.methods.base.Method). `method.name` picks the class here;
adding a method is one module (its class declares its options: `Options`, one typed declaration), one line in
METHODS and one config file repro/conf/method/<name>.yaml (or `register_method`, where the declaration's defaults
are the method's config: a method defined outside the package)."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from repro.conf.schema import METHOD_OPTIONS
from repro.errors import UserError
from repro.methods.base import Method, NonFiniteLossError, NoOptions, StepOutput, optimizer_step, option_values
from repro.schema import check_node, fields_of

__all__ = [
    "METHODS",
    "Method",
    "NoOptions",
    "NonFiniteLossError",
    "StepOutput",
    "build_method",
    "check_method_config",
    "check_method_options",
    "check_method_ready",
    "method_class",
    "method_options",
    "optimizer_step",
    "register_method",
]

# method.name -> "module:Class" (imported only when a run uses it), or the class `register_method` was given.
METHODS: dict[str, str | type[Method]] = {
    "baseline": "repro.methods.fixed_targets:FixedTargets",
    "label_smoothing": "repro.methods.fixed_targets:FixedTargets",
    "online_label_smoothing": "repro.methods.online_label_smoothing:OnlineLabelSmoothing",
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
    "mentornet": "repro.methods.mentornet.student:MentorNet",
    "mentornet_mentor": "repro.methods.mentornet.mentor_run:MentorRun",
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise UserError(
            f"method.name={name!r} names no method; the methods are: {', '.join(METHODS)}. "
            "Pick one with method=<name> (each has a config file in repro/conf/method/)."
        )
    target = METHODS[name]
    if not isinstance(target, str):
        return target
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def register_method(name: str, cls: type[Method]) -> type[Method]:
    """Make `method=<name>` select `cls`, a method defined outside the package (a test file): METHODS gets it and,
    as it has no config file in repro/conf/method/, Hydra's ConfigStore gets its group option, made of `name` and
    the defaults of its `Options` (each option needs one). The process that trains it must import its module."""
    missing = [f.name for f in fields_of(method_options(cls)) if f.required]
    if missing:
        raise TypeError(f"{cls.__name__}.Options: a registered method's options need defaults; {missing} have none")
    known = METHODS.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"method {name!r} is registered already ({known})")
    METHODS[name] = cls
    defaults = {f.name: f.default_value() for f in fields_of(cls.Options)}
    node = {"name": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()}}
    ConfigStore.instance().store(group="method", name=name, node=node)
    return cls


def method_options(cls: type[Method]) -> type:
    """The options declaration `cls` makes next to its code (its own, not a parent's: a subclass reads other
    options)."""
    if "Options" not in vars(cls):
        raise TypeError(
            f"{cls.__module__}.{cls.__name__} declares no options: set `Options = <a @schema class>` "
            "(repro/schema/declare.py; `NoOptions` for a method without options)."
        )
    return cls.Options


def _options_of(node: Mapping[str, Any], key: str) -> type:
    """The declaration of a run's `method` node, by its `name`: what the run id reads its options' identity from."""
    return method_options(method_class(str(node.get("name"))))


METHOD_OPTIONS.fill(_options_of)


def check_method_config(cfg: DictConfig | Mapping[str, Any]) -> None:
    """Refuse, before any work, options the method does not take, a value its declaration forbids, and a meta-set
    method without a meta set."""
    config = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    method = config["method"]
    cls = method_class(str(method.get("name")))
    options = method_options(cls)
    takes = [f.name for f in fields_of(options)]
    unknown = sorted(set(method) - {"name", *takes})
    if unknown:
        raise UserError(
            f"method={method['name']} does not take the option(s) {', '.join('method.' + k for k in unknown)}; it "
            f"takes: {', '.join('method.' + k for k in takes) or 'none'}. Check the spelling, or pick the "
            "method whose option it is."
        )
    check_method_options(cls, method)
    if cls.needs_meta_set and bool(config["split"]["full_train"]):
        raise UserError(
            f"method={method['name']} learns on a clean meta set, but split.full_train=true leaves none; use "
            "split=holdout (or split=noisy), or, for learned labels, replay them with method=replay."
        )
    held_out = str(config["split"].get("held_out_labels", "clean"))
    if cls.needs_meta_set and held_out != "clean":
        raise UserError(
            f"method={method['name']} learns on a clean meta set, but split.held_out_labels={held_out} gives the "
            "held-out part noisy labels; leave split.held_out_labels=clean."
        )


def check_method_options(cls: type[Method], node: DictConfig | Mapping[str, Any]) -> None:
    """Refuse a method node (its `name` aside) that `cls`'s declaration forbids: a value out of its rule, a rule
    tying options together."""
    check_node(method_options(cls), option_values(node), "method")


def check_method_ready(cfg: DictConfig) -> None:
    """Before a run starts: what its method reads from other runs exists and is finished (teachers, searches)."""
    method_class(str(cfg.method.name)).check_ready(cfg)


def build_method(cfg: DictConfig, exp) -> Method:
    """The run's method, built from its config, which was validated once before (`repro.config.load_config`, or
    when its sweep was planned)."""
    return method_class(str(cfg.method.name))(cfg.method, exp)
