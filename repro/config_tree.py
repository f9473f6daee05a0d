"""The config tree: Hydra's composition of the packaged `repro/conf` with command-line overrides, resolved, every
key checked against its declaration (repro/conf/schema.py, the noise model's).

Why this module is apart from repro/config.py: the replay stage composes the config of the method its fold runs
learned with (repro/labels/fold_runs.py), below the methods; `repro.config.load_config`, the one gate a run's config
passes, adds the checks that need the methods (their options and rules) and sits above them."""

from __future__ import annotations

import copy
import functools
from typing import Sequence

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

import repro.data.noise  # noqa: F401  (fills NOISE_OPTIONS: a noise node is checked against its model's keys)
from repro.conf.schema import Run
from repro.errors import UserError
from repro.hydra_flags import check_overrides, group_selections, unknown_key_error
from repro.path_keys import quoted_paths
from repro.schema import check_node

CONFIG_MODULE = "repro.conf"


def load_tree(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `config.yaml` with Hydra overrides, resolve it and check every key but the method's options against
    its declaration. Hydra's own settings, added / deleted keys and unknown keys are refused by name
    (repro/hydra_flags.py)."""
    overrides = quoted_paths(overrides)  # paths as users have them (non-ASCII, spaces, =, brackets)
    check_overrides(overrides)
    cfg = compose_config(overrides)
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as exc:
        raise UserError(f"The config of {list(overrides)} does not resolve: {' '.join(str(exc).split())}") from None
    check_run_tree(to_container(cfg))
    return cfg


def check_run_tree(tree: dict) -> None:
    """Every key of a resolved config against its declaration (repro/conf/schema.py): its type and range, the keys
    that tie together; the method's options are checked one layer up, by the method's own declaration."""
    check_node(Run, tree, "", skip=("method",))


def compose_config(overrides: Sequence[str] = (), *, hydra_node: bool = False) -> DictConfig:
    """Hydra's composition of `config.yaml` with the overrides, unresolved (`hydra_node`: with Hydra's own node).

    A process composes the same overrides once: Hydra reads and merges the config files anew at every call (0.2 CPU-s
    each), and a sweep's checks, its runs and a test session ask for the same compositions again and again. Each
    caller gets its own copy; what depends on the environment (`${oc.env:...}`) is still unresolved here, so it is
    resolved at every load. Hydra's own node (runtime paths, the time) is composed anew each time."""
    overrides = tuple(quoted_paths(overrides))
    if hydra_node or not all(isinstance(o, str) for o in overrides):
        return _compose(overrides, hydra_node=hydra_node)
    return copy.deepcopy(_composed(overrides, _config_store_state()))


@functools.lru_cache(maxsize=256)
def _composed(overrides: tuple[str, ...], store: tuple[tuple[str, int], ...]) -> DictConfig:
    """The composition of these overrides with this ConfigStore, kept for the process (a failed one is not kept: it
    raises again)."""
    return _compose(overrides, hydra_node=False)


def _config_store_state() -> tuple[tuple[str, int], ...]:
    """What Hydra's ConfigStore holds, entry by entry (a method registered from outside the package stores its group
    option there, repro/methods/registry.py): a composition made before an entry was stored, replaced or removed is
    not one Hydra would make now."""
    entries, folders = [], [("", ConfigStore.instance().repo)]
    while folders:
        prefix, folder = folders.pop()
        for name, entry in folder.items():
            if isinstance(entry, dict):
                folders.append((f"{prefix}{name}/", entry))
            else:
                entries.append((f"{prefix}{name}", id(entry)))
    return tuple(sorted(entries))


def _compose(overrides: tuple[str, ...], *, hydra_node: bool) -> DictConfig:
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            try:
                return compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra_node)
            except (HydraException, OmegaConfBaseException):
                unknown = _unknown_key(overrides)
                if unknown is not None:
                    raise unknown from None
                raise
    except (HydraException, OmegaConfBaseException) as exc:
        raise UserError(
            f"Bad config override in {list(overrides)}: {' '.join(str(exc).split())} "
            "Overrides look like group=option (e.g. model=resnet18) or key=value (e.g. optim.lr=0.1); "
            "`repro train --help` lists the groups and their options."
        ) from None
    finally:
        GlobalHydra.instance().clear()


def _unknown_key(overrides: Sequence[str]) -> UserError | None:
    """After a failed composition: the override that names a key that does not exist, as a precise error."""
    try:
        base = compose(config_name="config", overrides=group_selections(overrides))
    except (HydraException, OmegaConfBaseException):
        return None  # a bad group option: Hydra's own message names it
    return unknown_key_error(overrides, base)


def to_container(cfg: DictConfig) -> dict:
    """A plain, resolved dict of the config (what is saved, hashed and logged)."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
