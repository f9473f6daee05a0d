"""Compose and validate a run's config from the packaged Hydra tree and command-line overrides."""

from __future__ import annotations

from typing import Sequence

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from repro.errors import UserError

CONFIG_MODULE = "repro.conf"


def load_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `config.yaml` with Hydra overrides, resolve it, and check values before any work starts."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides))
        OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException) as exc:
        raise UserError(
            f"Bad config override in {list(overrides)}: {exc} "
            "Overrides look like group=option (e.g. model=resnet18) or key=value (e.g. optim.lr=0.1); "
            "`repro train --help` lists the groups and their options."
        ) from None
    finally:
        GlobalHydra.instance().clear()
    validate_config(cfg)
    return cfg


def validate_config(cfg: DictConfig) -> None:
    """Reject values that would fail late or silently train something else."""
    if int(cfg.optim.epochs) < 1:
        raise UserError(f"optim.epochs={cfg.optim.epochs}: a run needs at least one epoch; set optim.epochs=1 or more.")
    if float(cfg.optim.lr) <= 0:
        raise UserError(f"optim.lr={cfg.optim.lr}: the learning rate must be positive.")
    frac = float(cfg.noise.fraction)
    if not 0.0 <= frac < 1.0:
        raise UserError(
            f"noise.fraction={frac}: the noise fraction must be in [0, 1) (the paper uses 0.2, 0.4, 0.6, 0.8)."
        )
    meta = float(cfg.split.meta_fraction)
    if not 0.0 < meta < 1.0:
        raise UserError(
            f"split.meta_fraction={meta}: the meta fraction must be in (0, 1) (the paper holds out 0.2, or 0.02 of "
            "clean data in the noisy setting)."
        )
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
    if int(cfg.data.batch_size) < 1:
        raise UserError(f"data.batch_size={cfg.data.batch_size}: the batch size must be at least 1.")
    from repro.hardware import Hardware
    from repro.methods import check_method_config

    Hardware.from_config(cfg, require_device=False)  # bad device / precision / flag values fail here, not later
    check_method_config(cfg)


def to_container(cfg: DictConfig) -> dict:
    """A plain, resolved dict of the config (what is saved, hashed and logged)."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
