"""Compose and validate a run's config from the packaged Hydra tree and command-line overrides: `load_config` is the
one gate a run's config passes before anything is written."""

from __future__ import annotations

from typing import Sequence

from omegaconf import DictConfig

from repro.config_tree import CONFIG_MODULE, compose_config, load_tree, to_container
from repro.errors import UserError
from repro.methods import check_method_config
from repro.training.hardware import Hardware
from repro.validation import check_tree

__all__ = ["CONFIG_MODULE", "compose_config", "load_config", "to_container", "validate_config"]


def load_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `config.yaml` with Hydra overrides, resolve it, and check values before any work starts. Hydra's own
    settings, added / deleted keys and unknown keys are refused by name (repro/hydra_flags.py); every scalar is
    type- and range-checked (repro/validation.py), then the keys that tie together, the hardware keys and the
    method's options (its own rules)."""
    cfg = load_tree(overrides)
    _check_keys_together(cfg)
    return cfg


def validate_config(cfg: DictConfig) -> None:
    """Reject values that would fail late or silently train something else: first every scalar's type and range
    (repro/validation.py), then the rules that tie keys together."""
    check_tree(to_container(cfg) if isinstance(cfg, DictConfig) else cfg.to_dict())
    _check_keys_together(cfg)


def _check_keys_together(cfg: DictConfig) -> None:
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
    Hardware.from_config(cfg, require_device=False)  # bad device / precision / flag values fail here, not later
    check_method_config(cfg)
