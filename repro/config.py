"""Compose and validate a run's config from the packaged Hydra tree and command-line overrides: `load_config` is the
one gate a run's config passes before anything is written.

The method's options are checked by its class, which needs torch: that import waits for the first config checked, so
that loading a sweep file (the stages' modules make their runs through here) does not load torch before a run is
made."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from omegaconf import DictConfig

from repro.config_tree import CONFIG_MODULE, check_run_tree, compose_config, load_tree, to_container
from repro.methods.registry import check_method_config

__all__ = ["CONFIG_MODULE", "compose_config", "load_config", "to_container", "validate_config"]


def load_config(overrides: Sequence[str] = ()) -> DictConfig:
    """Compose `config.yaml` with Hydra overrides, resolve it, and check values before any work starts. Hydra's own
    settings, added / deleted keys and unknown keys are refused by name (repro/hydra_flags.py); every key is checked
    against its declaration (repro/conf/schema.py, the noise model's), then the method's options against the
    method's own (`MethodDeclaration.Options`)."""
    cfg = load_tree(overrides)
    check_method_config(cfg)
    return cfg


def validate_config(cfg: DictConfig | Mapping[str, Any]) -> None:
    """Reject values that would fail late or silently train something else: every key against its declaration
    (repro/conf/schema.py, the noise model's, the method's), the rules that tie keys together included."""
    tree = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    check_run_tree(tree)
    check_method_config(tree)
