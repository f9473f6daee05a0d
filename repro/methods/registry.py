"""`method.name` -> the method: its declaration (torch-free: what planning, pricing and reporting ask) and, through
it, its trainer (what a run trains with). Adding a method is a declaration under repro/methods/declarations/, its
trainer under repro/methods/, one line in METHODS and one config file repro/conf/method/<name>.yaml (or
`register_method`, where the declaration's defaults are the method's config: a method defined outside the
package)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Mapping

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from repro.conf.schema import METHOD_OPTIONS
from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration, option_values
from repro.schema import check_node, fields_of

if TYPE_CHECKING:
    from repro.methods.base import Method

_HOME = "repro.methods.declarations"

# method.name -> "module:Declaration" (imported on the first lookup), or the trainer `register_method` was given
# (which has its declaration: `Trainer.declaration`).
METHODS: dict[str, str | type[MethodDeclaration]] = {
    "baseline": f"{_HOME}.fixed_targets:FixedTargetsDeclaration",
    "label_smoothing": f"{_HOME}.fixed_targets:FixedTargetsDeclaration",
    "online_label_smoothing": f"{_HOME}.online_label_smoothing:OnlineLabelSmoothingDeclaration",
    "confidence_penalty": f"{_HOME}.fixed_targets:FixedTargetsDeclaration",
    "class_labels": f"{_HOME}.learned_labels:LearnedLabelsDeclaration",
    "instance_labels": f"{_HOME}.learned_labels:LearnedLabelsDeclaration",
    "replay": f"{_HOME}.replay:ReplayDeclaration",
    "focal_loss": f"{_HOME}.focal_loss:FocalLossDeclaration",
    "coteaching": f"{_HOME}.coteaching:CoTeachingDeclaration",
    "l2rw": f"{_HOME}.l2rw:L2RWDeclaration",
    "mwnet": f"{_HOME}.mwnet:MetaWeightNetDeclaration",
    "data_parameters": f"{_HOME}.data_parameters:DataParametersDeclaration",
    "distillation": f"{_HOME}.students:DistillationDeclaration",
    "transferred_labels": f"{_HOME}.students:TransferredLabelsDeclaration",
    "loss_correction": f"{_HOME}.loss_correction:LossCorrectionDeclaration",
    "label_smearing": f"{_HOME}.label_smearing:LabelSmearingDeclaration",
    "mentornet": f"{_HOME}.mentornet:MentorNetDeclaration",
    "mentornet_mentor": f"{_HOME}.mentornet:MentorRunDeclaration",
}


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def method_declaration(name: str) -> type[MethodDeclaration]:
    """The declaration of `method.name` (no torch): its options, step cost and what a plan asks of it."""
    if name not in METHODS:
        raise UserError(
            f"method.name={name!r} names no method; the methods are: {', '.join(METHODS)}. "
            "Pick one with method=<name> (each has a config file in repro/conf/method/)."
        )
    target = METHODS[name]
    return _load(target) if isinstance(target, str) else _declaration_of(target)


def method_class(name: str) -> type[Method]:
    """The trainer of `method.name` (imports torch): what a run trains with, the one whose declaration names it."""
    target = METHODS.get(name)
    declared = method_declaration(name)
    if not isinstance(target, str):
        return target  # type: ignore[return-value]
    trainer = _load(declared.trainer)
    if trainer.declaration is not declared:
        raise TypeError(
            f"{declared.__name__} names the trainer {declared.trainer}, whose declaration is "
            f"{trainer.declaration}: write `class {trainer.__name__}(..., declaration={declared.__name__})`"
        )
    return trainer


def _declaration_of(trainer: type[Method]) -> type[MethodDeclaration]:
    declared = getattr(trainer, "declaration", None)
    if declared is None:
        raise TypeError(
            f"{trainer.__name__} has no declaration: write `class {trainer.__name__}(..., declaration=...)`"
        )
    return declared


def register_method(name: str, cls: type[Method]) -> type[Method]:
    """Make `method=<name>` select `cls`, a trainer defined outside the package (a test file), with its declaration
    (`cls.declaration`): METHODS gets it and, as it has no config file in repro/conf/method/, Hydra's ConfigStore
    gets its group option, made of `name` and the defaults of its declaration's `Options` (each option needs one).
    The process that trains it must import its module."""
    options = method_options(_declaration_of(cls))
    missing = [f.name for f in fields_of(options) if f.required]
    if missing:
        raise TypeError(f"{options.__qualname__}: a registered method's options need defaults; {missing} have none")
    known = METHODS.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"method {name!r} is registered already ({known})")
    METHODS[name] = cls
    defaults = {f.name: f.default_value() for f in fields_of(options)}
    node = {"name": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()}}
    ConfigStore.instance().store(group="method", name=name, node=node)
    return cls


def method_options(declaration: type[MethodDeclaration]) -> type:
    """The options a method's declaration makes: its own `Options`, never one it inherits (a declaration built on
    another may read other options). A trainer's are its declaration's (`method_options(Trainer.declaration)`)."""
    options = vars(declaration).get("Options")
    if options is None:
        raise TypeError(
            f"{declaration.__module__}.{declaration.__name__} declares no options: set `Options = <a @schema class>` "
            "(repro/schema/declare.py; `NoOptions` for a method without options)."
        )
    return options


def _options_of(node: Mapping[str, Any], key: str) -> type:
    """The declaration of a run's `method` node, by its `name`: what the run id reads its options' identity from."""
    return method_options(method_declaration(str(node.get("name"))))


METHOD_OPTIONS.fill(_options_of)


def check_method_config(cfg: DictConfig | Mapping[str, Any]) -> None:
    """Refuse, before any work, options the method does not take, a value its declaration forbids, and a meta-set
    method without a meta set."""
    config = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    method = config["method"]
    declared = method_declaration(str(method.get("name")))
    options = method_options(declared)
    takes = [f.name for f in fields_of(options)]
    unknown = sorted(set(method) - {"name", *takes})
    if unknown:
        raise UserError(
            f"method={method['name']} does not take the option(s) {', '.join('method.' + k for k in unknown)}; it "
            f"takes: {', '.join('method.' + k for k in takes) or 'none'}. Check the spelling, or pick the "
            "method whose option it is."
        )
    check_method_options(declared, method)
    if declared.needs_meta_set and bool(config["split"]["full_train"]):
        raise UserError(
            f"method={method['name']} learns on a clean meta set, but split.full_train=true leaves none; use "
            "split=holdout (or split=noisy), or, for learned labels, replay them with method=replay."
        )
    held_out = str(config["split"].get("held_out_labels", "clean"))
    if declared.needs_meta_set and held_out != "clean":
        raise UserError(
            f"method={method['name']} learns on a clean meta set, but split.held_out_labels={held_out} gives the "
            "held-out part noisy labels; leave split.held_out_labels=clean."
        )


def check_method_options(cls: type[MethodDeclaration], node: DictConfig | Mapping[str, Any]) -> None:
    """Refuse a method node (its `name` aside) that `cls`'s declaration forbids: a value out of its rule, a rule
    tying options together."""
    check_node(method_options(cls), option_values(node), "method")


def check_method_ready(cfg: DictConfig) -> None:
    """Before a run starts: what its method reads from other runs exists and is finished (teachers, searches)."""
    method_class(str(cfg.method.name)).check_ready(cfg)


def build_method(cfg: DictConfig, exp: Any) -> Method:
    """The run's method, built from its config, which was validated once before (`repro.config.load_config`, or
    when its sweep was planned)."""
    return method_class(str(cfg.method.name))(cfg.method, exp)
