"""Resolve many runs' configs fast, exactly as `repro train <overrides>` would.

Takes a run's parsed overrides; returns its resolved config (a plain dict), unvalidated: the planner validates each
planned run once (repro/sweep/expand/build.py).

Hydra's compose costs 50-150 ms a call, too slow for a 1,000-run sweep. A run's config is a function of its group
selections (data=..., model=..., method=...) and of its key=value overrides, which Hydra applies after composing,
one `OmegaConf.update(cfg, key, value, merge=True)` each. Every option of this config tree fills its own group's node
and nothing else, so the composition of a group selection is the default composition with the selected options'
nodes in place of the default ones: Hydra's public `compose` runs once for the defaults and once per (group, option)
used, and says which option each group took (its `hydra.runtime.choices`), which must be what the defaults list of
config.yaml gives here (`optim: ${model}` follows the model). Where an option fills more than its node, or the
choices disagree, or a recipe preset (`optim/schedule=step`, repro/conf/optim/<choice>/) fills its parent's node, that
selection is composed whole by Hydra. The key=value overrides are applied here to a plain
dict, with the same key checks (a key that does not exist is an error, as under Hydra's struct mode).
tests/sweep/test_sweep_spec.py checks that every sweep file's runs equal `load_config`'s.
"""

from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from repro.config import CONFIG_MODULE
from repro.errors import UserError
from repro.sweep.protocol.cell import Override

# `${oc.env:NAME}` or `${oc.env:NAME,default}` with no reference to another node: safe to resolve once per base.
_ENV_ONLY = re.compile(r"^\$\{oc\.env:[^${}]*\}$")


Selection = tuple[tuple[str, str], ...]  # (group, option) pairs, sorted: the group overrides of a run


@dataclass
class _Base:
    """The composed config of one group selection, as a plain dict (interpolations resolved if they are env-only)."""

    container: dict
    resolved: bool  # True: `container` has no interpolation left (fast path)
    dictconfig: DictConfig  # the unresolved composition (slow path for node-referencing interpolations)


class FastComposer:
    """Composes with Hydra once for the defaults and once per (group, option) used, builds each distinct group
    selection from those nodes (cached for the life of the process, like the environment variables its
    `${oc.env:...}` values were resolved with), then applies key=value overrides."""

    def __init__(self) -> None:
        self._bases: dict[Selection, _Base] = {}
        self._defaults = _defaults_list()
        self._default: dict | None = None  # the composition of the defaults, unresolved
        self._nodes: dict[tuple[str, str], Any] = {}  # (group, option) -> its node, unresolved
        self._whole: set[Selection] = set()  # selections Hydra composes whole (an option fills more than its node)
        self._default_choices = self._choices({})

    def choices(self, overrides: Sequence[Override]) -> dict[str, str]:
        """The option each config group takes with these overrides (a group's default may name another group's
        choice, as `optim: ${model}` does in config.yaml)."""
        return self._choices(dict(_selection(overrides)))

    def compose(self, overrides: Sequence[Override], *, where: str) -> dict:
        """The resolved config of these (deduplicated) overrides, unvalidated: what `load_config` would give."""
        base = self._base(_selection(overrides), where)
        assignments = [o for o in overrides if not o.is_group]
        if base.resolved and not any(_has_interpolation(o.value) for o in assignments):
            config = _copied(base.container)
            for o in assignments:
                _assign(config, o, where)
            return config
        return _resolve_slowly(base.dictconfig, assignments, where)

    def _choices(self, selection: Mapping[str, str]) -> dict[str, str]:
        chosen = {**dict(self._defaults), **selection}
        return OmegaConf.to_container(OmegaConf.create(chosen), resolve=True)  # type: ignore[return-value]

    def _base(self, selection: Selection, where: str) -> _Base:
        if selection not in self._bases:
            with _hydra_initialised():
                self._bases[selection] = _make_base(self._composition(selection, where))
        return self._bases[selection]

    def _composition(self, selection: Selection, where: str) -> DictConfig:
        unknown = [g for g, _ in selection if g not in dict(self._defaults)]
        if self._default is None:
            self._default = _container(_public_compose([], where))
        choices, default = self._choices(dict(selection)), self._default_choices
        changed = {g: o for g, o in choices.items() if o != default[g]}
        presets = any("/" in g for g in changed)  # a recipe preset (optim/schedule=step) fills its parent's node
        if not unknown and not presets and selection not in self._whole:
            config = copy.deepcopy(self._default)
            for group, option in changed.items():
                node = self._node(group, option, where)
                if node is None:  # the option fills more than its node: this selection is Hydra's whole
                    self._whole.add(selection)
                    break
                config[group] = copy.deepcopy(node)
            else:
                cfg = OmegaConf.create(config)
                OmegaConf.set_struct(cfg, True)
                return cfg
        return _public_compose([f"{g}={o}" for g, o in selection], where)

    def _node(self, group: str, option: str, where: str) -> Any:
        """The node `group=option` fills, or None where Hydra's composition of it differs from the defaults' outside
        that node (and the nodes whose default follows it) or its choices are not the ones config.yaml gives."""
        key = (group, option)
        if key not in self._nodes:
            default = self._default or {}
            cfg = _public_compose([f"{group}={option}"], where, choices=True)
            said = dict(cfg.hydra.runtime.choices)
            with_it = self._choices({group: option})
            moved = {g for g, o in with_it.items() if o != self._default_choices[g]}
            config = _container(cfg)
            config.pop("hydra")
            same = set(config) == set(default) and all(config[k] == default[k] for k in config if k not in moved)
            agree = all(said.get(g) == o for g, o in with_it.items())
            self._nodes[key] = config[group] if same and agree else None
        return self._nodes[key]


@contextmanager
def _hydra_initialised() -> Iterator[None]:
    """Hydra initialised with the packaged config tree for a block of compositions (cleared before and after)."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            yield
    finally:
        GlobalHydra.instance().clear()


def _copied(node: Any) -> Any:
    """A copy of a plain config tree (dicts, lists, scalars), five times faster than `copy.deepcopy`, which every
    planned run's config paid for; anything else is deep-copied."""
    if type(node) is dict:
        return {key: _copied(value) for key, value in node.items()}
    if type(node) is list:
        return [_copied(value) for value in node]
    if node is None or type(node) in (str, int, float, bool):
        return node
    return copy.deepcopy(node)


def _selection(overrides: Sequence[Override]) -> Selection:
    return tuple(sorted({o.key: o.value for o in overrides if o.is_group}.items()))  # last one wins


def _defaults_list() -> list[tuple[str, str]]:
    """config.yaml's defaults list as (group, option) pairs, in order (an option may be `${other_group}`)."""
    primary = yaml.safe_load((resources.files(CONFIG_MODULE) / "config.yaml").read_text()) or {}
    return [next(iter(d.items())) for d in primary.get("defaults") or [] if isinstance(d, dict) and len(d) == 1]


def _public_compose(overrides: list[str], where: str, *, choices: bool = False) -> DictConfig:
    """Hydra's public compose (inside `_hydra_initialised()`), its errors as a UserError; `choices`: with Hydra's own
    node (its `runtime.choices`)."""
    try:
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=choices)
    except (HydraException, OmegaConfBaseException) as exc:
        reason = " ".join(str(exc).split("Config search path")[0].split())
        raise UserError(
            f"{where}: Hydra cannot compose {overrides}: {reason} Check the option names against "
            "`repro train --help` (e.g. model=resnet18)."
        ) from None
    OmegaConf.set_struct(cfg, True)
    return cfg


def _container(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=False)  # type: ignore[return-value]


def _make_base(cfg: DictConfig) -> _Base:
    interpolations = list(_interpolations(OmegaConf.to_container(cfg, resolve=False)))
    env_only = all(_ENV_ONLY.match(s) for s in interpolations)
    container = OmegaConf.to_container(cfg, resolve=env_only)
    return _Base(container=container, resolved=env_only, dictconfig=cfg)  # type: ignore[arg-type]


def _interpolations(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _interpolations(v)
    elif isinstance(node, list):
        for v in node:
            yield from _interpolations(v)
    elif isinstance(node, str) and "${" in node:
        yield node


def _has_interpolation(value: Any) -> bool:
    return any(True for _ in _interpolations(value))


def _assign(config: dict, override: Override, where: str) -> None:
    """`OmegaConf.update(cfg, key, value, merge=True)` on a struct config, for a plain dict."""
    parts = override.key.split(".")
    node: Any = config
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            raise _unknown_key(override, ".".join(parts[: i + 1]), where)
        if i < len(parts) - 1:
            node = node[part]
    last = parts[-1]
    value = copy.deepcopy(override.value)
    if isinstance(value, dict) and isinstance(node[last], dict):
        _merge(node[last], value, override, where)
    else:
        node[last] = value


def _merge(target: dict, value: Mapping, override: Override, where: str) -> None:
    for k, v in value.items():
        if k not in target:
            raise _unknown_key(override, f"{override.key}.{k}", where)
        if isinstance(v, dict) and isinstance(target[k], dict):
            _merge(target[k], v, override, where)
        else:
            target[k] = v


def _resolve_slowly(base: DictConfig, assignments: Sequence[Override], where: str) -> dict:
    cfg = copy.deepcopy(base)
    for o in assignments:
        try:
            OmegaConf.update(cfg, o.key, o.value, merge=True)
        except OmegaConfBaseException:
            raise _unknown_key(o, o.key, where) from None
    try:
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        raise UserError(f"{where}: the config does not resolve: {str(exc).splitlines()[0]}") from None


def _unknown_key(override: Override, key: str, where: str) -> UserError:
    return UserError(
        f"{where}: the override {override.text!r} sets {key!r}, which does not exist in the config tree for this "
        "run's group selection. Check the spelling against `repro train --print-config <the same groups>`; keys "
        "of a method exist only when that method is selected (e.g. method.label_lr needs method=class_labels)."
    )
