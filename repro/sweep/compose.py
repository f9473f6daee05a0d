"""Resolve many runs' configs fast, exactly as `repro train <overrides>` would.

Hydra's compose costs 20-70 ms a call, too slow for a 1,000-run sweep. A run's config is a function of its group
selections (data=..., model=..., method=...) and of its key=value overrides, which Hydra applies after composing,
one `OmegaConf.update(cfg, key, value, merge=True)` each. So Hydra composes once per distinct group selection and
the key=value overrides are applied here to a plain dict, with the same key checks (a key that does not exist is an
error, as under Hydra's struct mode). tests/test_sweep_spec.py checks that the result equals `load_config`'s.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from repro.config import CONFIG_MODULE, validate_config
from repro.errors import UserError
from repro.hydra_flags import config_groups as hydra_config_groups

_MISSING = object()
# `${oc.env:NAME}` or `${oc.env:NAME,default}` with no reference to another node: safe to resolve once per base.
_ENV_ONLY = re.compile(r"^\$\{oc\.env:[^${}]*\}$")


@dataclass(frozen=True)
class Override:
    """One parsed plain override: a group selection (`model=resnet18`) or a key assignment (`optim.lr=0.1`)."""

    text: str
    key: str
    value: Any
    is_group: bool


def config_groups() -> frozenset[str]:
    """The config groups of the packaged tree (its sub-directories): data, model, optim, method, ..., and the
    recipe presets inside optim/ (optim/schedule, ...)."""
    return _GROUPS


_GROUPS = hydra_config_groups()
_PARSER = OverridesParser.create()
_PARSED: dict[str, Override] = {}


def parse_override(text: str, *, where: str) -> Override:
    """Parse one override with Hydra's grammar; only plain `key=value` forms are allowed in a sweep."""
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    if not isinstance(text, str):
        raise UserError(
            f"{where}: the override {text!r} is not a string. Write overrides as strings such as model=resnet18 "
            "or optim.lr=0.1 (quote values that YAML would read as something else)."
        )
    from repro.path_keys import quoted_path

    given, text = text, quoted_path(text)  # paths as users have them (non-ASCII, spaces, =, brackets)
    try:
        (parsed,) = _PARSER.parse_overrides([text])
    except HydraException as exc:
        raise UserError(
            f"{where}: cannot parse the override {text!r} ({str(exc).splitlines()[0]}). Overrides look like "
            "group=option (model=resnet18) or key=value (optim.lr=0.1); quote values with spaces or brackets: "
            "key='a (b)'."
        ) from None
    if (
        parsed.is_add()
        or parsed.is_delete()
        or parsed.is_force_add()
        or parsed.package is not None
        or parsed.is_sweep_override()
        or ("/" in parsed.key_or_group and parsed.key_or_group not in _GROUPS)
    ):
        raise UserError(
            f"{where}: the override {text!r} is not a plain key=value override. A sweep file lists plain "
            "overrides only (no +, ++, ~, @package or a,b sweeps); the grid comes from its rows, columns and seeds."
        )
    key = parsed.key_or_group
    value = parsed.value()
    result = Override(text=text, key=key, value=value, is_group=key in _GROUPS)
    if result.is_group and not isinstance(value, str):
        raise UserError(f"{where}: {text!r} selects the config group {key!r}, which takes an option name.")
    _PARSED[given] = result
    return result


def quote_value(value: str) -> str:
    """`value` written so that Hydra's override grammar reads it back as exactly that string."""
    from repro.path_keys import hydra_quoted

    for candidate in (value, hydra_quoted(value)):
        try:
            (parsed,) = _PARSER.parse_overrides([f"k={candidate}"])
        except HydraException:
            continue
        if parsed.value() == value and isinstance(parsed.value(), str):
            return candidate
    raise UserError(f"Cannot write {value!r} as a Hydra override value; use a simpler path or name.")


@dataclass
class _Base:
    """The composed config of one group selection, as a plain dict (interpolations resolved if they are env-only)."""

    container: dict
    resolved: bool  # True: `container` has no interpolation left (fast path)
    dictconfig: DictConfig  # the unresolved composition (slow path for node-referencing interpolations)


class FastComposer:
    """Composes with Hydra once per distinct group selection (cached for the life of the process, like the
    environment variables its `${oc.env:...}` values were resolved with), then applies key=value overrides."""

    def __init__(self) -> None:
        self._bases: dict[tuple[tuple[str, str], ...], _Base] = {}
        self._lean: Callable[[list[str]], DictConfig] | None | bool = None  # made once: its YAML cache is shared

    def prepare(self, selections: Iterable[tuple[tuple[str, str], ...]], *, where: str = "") -> None:
        """Compose every group selection not cached yet."""
        todo = [s for s in dict.fromkeys(selections) if s not in self._bases]
        if not todo:
            return
        GlobalHydra.instance().clear()
        try:
            with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
                if self._lean is None:
                    self._lean = _lean_composer() or False
                compose_one = self._lean or _public_composer
                for selection in todo:
                    overrides = [f"{g}={o}" for g, o in selection]
                    try:
                        cfg = compose_one(overrides)
                    except (HydraException, OmegaConfBaseException) as exc:
                        reason = " ".join(str(exc).split("Config search path")[0].split())
                        raise UserError(
                            f"{where}: Hydra cannot compose {overrides}: {reason} Check the option names against "
                            "`repro train --help` (e.g. model=resnet18)."
                        ) from None
                    OmegaConf.set_struct(cfg, True)
                    self._bases[selection] = _make_base(cfg)
        finally:
            GlobalHydra.instance().clear()

    def resolve(self, overrides: Sequence[Override], *, where: str) -> dict:
        """The resolved, validated config of these (deduplicated) overrides: what `load_config` would give."""
        selection = tuple(sorted({o.key: o.value for o in overrides if o.is_group}.items()))  # last one wins
        self.prepare([selection], where=where)
        base = self._bases[selection]
        assignments = [o for o in overrides if not o.is_group]
        if base.resolved and not any(_has_interpolation(o.value) for o in assignments):
            config = copy.deepcopy(base.container)
            for o in assignments:
                _assign(config, o, where)
        else:
            config = _resolve_slowly(base.dictconfig, assignments, where)
        try:
            validate_config(_AttrView(config))
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        return config


def _public_composer(overrides: list[str]) -> DictConfig:
    return compose(config_name="config", overrides=overrides)


def _lean_composer() -> Callable[[list[str]], DictConfig] | None:
    """Hydra's own composition without the `hydra` node, with one YAML cache for all calls: 35 ms a call instead of
    150 ms here. It uses Hydra internals (hydra-core is pinned in pyproject.toml); if they are not there, None
    (then the public `compose` is used). tests/test_sweep_spec.py checks both give the same configs."""
    try:
        from hydra._internal.config_repository import CachingConfigRepository
        from hydra._internal.defaults_list import create_defaults_list

        loader = GlobalHydra.instance().config_loader()
        repo = CachingConfigRepository(loader.repository)  # type: ignore[attr-defined]
        compose_from = loader._compose_config_from_defaults_list  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None

    def compose_lean(overrides: list[str]) -> DictConfig:
        parsed = _PARSER.parse_overrides(overrides)
        defaults = create_defaults_list(
            repo=repo, config_name="config", overrides_list=parsed, prepend_hydra=False, skip_missing=False
        )
        return compose_from(defaults=defaults.defaults, repo=repo)

    return compose_lean


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


class _AttrView:
    """Read-only attribute access to a plain dict, so `validate_config` runs without building a DictConfig."""

    __slots__ = ("_d",)

    def __init__(self, d: Mapping) -> None:
        self._d = d

    def to_dict(self) -> Mapping:
        return self._d

    def _wrap(self, v: Any) -> Any:
        return _AttrView(v) if isinstance(v, Mapping) else v

    def __getattr__(self, name: str) -> Any:
        try:
            return self._wrap(self._d[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._wrap(self._d[name])

    def __contains__(self, name: object) -> bool:
        return name in self._d

    def __iter__(self):  # the keys, like a DictConfig's (check_method_config takes set(cfg.method))
        return iter(self._d)

    def get(self, name: str, default: Any = None) -> Any:
        return self._wrap(self._d[name]) if name in self._d else default
