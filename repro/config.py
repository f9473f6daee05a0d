"""Compose and validate a run's config from the packaged Hydra tree and command-line overrides."""

from __future__ import annotations

from typing import Sequence

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from repro.errors import UserError
from repro.validation import check_tree

CONFIG_MODULE = "repro.conf"


def load_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `config.yaml` with Hydra overrides, resolve it, and check values before any work starts. Hydra's own
    settings, added / deleted keys and unknown keys are refused by name (repro/hydra_flags.py)."""
    from repro.hydra_flags import check_overrides
    from repro.path_keys import quoted_paths

    overrides = quoted_paths(overrides)  # paths as users have them (non-ASCII, spaces, =, brackets)
    check_overrides(overrides)
    cfg = compose_config(overrides)
    try:
        OmegaConf.resolve(cfg)
    except OmegaConfBaseException as exc:
        raise UserError(f"The config of {list(overrides)} does not resolve: {' '.join(str(exc).split())}") from None
    validate_config(cfg)
    return cfg


def compose_config(overrides: Sequence[str] = (), *, hydra_node: bool = False) -> DictConfig:
    """Hydra's composition of `config.yaml` with the overrides, unresolved (`hydra_node`: with Hydra's own node)."""
    from repro.path_keys import quoted_paths

    overrides = quoted_paths(overrides)
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
    from repro.hydra_flags import group_selections, unknown_key_error

    try:
        base = compose(config_name="config", overrides=group_selections(overrides))
    except (HydraException, OmegaConfBaseException):
        return None  # a bad group option: Hydra's own message names it
    return unknown_key_error(overrides, base)


def validate_config(cfg: DictConfig) -> None:
    """Reject values that would fail late or silently train something else: first every scalar's type and range
    (repro/validation.py), then the rules that tie keys together."""
    check_tree(to_container(cfg) if isinstance(cfg, DictConfig) else cfg.to_dict())
    meta = float(cfg.split.meta_fraction)
    folds, fold = int(cfg.split.folds), int(cfg.split.fold)
    if folds < 1 or not 0 <= fold < folds:
        raise UserError(
            f"split.fold={fold} with split.folds={folds}: the fold index must be in 0..{max(folds - 1, 0)} "
            "(the paper's protocol uses 5 folds, 0..4)."
        )
    if meta * folds > 1.0 + 1e-9:
        raise UserError(
            f"split.meta_fraction={meta} with split.folds={folds}: the folds' meta sets would overlap "
            f"({meta} x {folds} > 1); lower one of them."
        )
    from repro.hardware import Hardware
    from repro.methods import check_method_config

    Hardware.from_config(cfg, require_device=False)  # bad device / precision / flag values fail here, not later
    check_method_config(cfg)


def to_container(cfg: DictConfig) -> dict:
    """A plain, resolved dict of the config (what is saved, hashed and logged)."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
