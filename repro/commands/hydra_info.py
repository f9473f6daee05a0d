"""`repro train --cfg job|hydra|all [--resolve]` and `--info defaults`: what a Hydra app prints for them."""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path
from typing import Sequence

from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from tabulate import tabulate

from repro.config import CONFIG_MODULE, compose_config, validate_config
from repro.errors import UserError
from repro.hydra_flags import check_overrides

CFG_CHOICES = ("job", "hydra", "all")
INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "searchpath")  # `--info` alone: all, as in Hydra


def print_cfg(which: str, overrides: Sequence[str], *, resolve: bool) -> None:
    """The composed config as YAML: `job` is the run's config (what config.yaml in its run directory holds, once
    resolved), `hydra` Hydra's own node (not used by `repro`; its runtime-only values stay unresolved), `all` both."""
    check_overrides(overrides)
    cfg = compose_config(overrides, hydra_node=which != "job")
    job = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    try:
        resolved = OmegaConf.to_container(job, resolve=True)
    except OmegaConfBaseException as exc:
        raise UserError(f"The config of {list(overrides)} does not resolve: {' '.join(str(exc).split())}") from None
    validate_config(OmegaConf.create(resolved))  # a bad value is refused here as on `repro train`
    out: dict = {}
    if which != "job":
        HydraConfig.instance().set_config(cfg)  # `${hydra:...}` resolvers read it, as in a Hydra app
        try:
            out["hydra"] = OmegaConf.to_container(cfg.hydra, resolve=resolve)
        except OmegaConfBaseException:  # values Hydra fills in only when it launches a job (hydra.job.num, ...)
            out["hydra"] = OmegaConf.to_container(cfg.hydra, resolve=False)
    if which != "hydra":
        out.update(resolved if resolve else OmegaConf.to_container(job, resolve=False))
    print(OmegaConf.to_yaml(OmegaConf.create(out)), end="")


def print_info(which: str, overrides: Sequence[str]) -> None:
    """`--info defaults`: ours, with each option's file; the others: Hydra's own report (`Hydra.show_info`)."""
    if which == "defaults":
        print_defaults(overrides)
        return

    check_overrides(overrides)
    compose_config(overrides)  # a bad override is refused with the usual message first
    root = logging.getLogger()
    handlers, raise_exceptions = list(root.handlers), logging.raiseExceptions
    GlobalHydra.instance().clear()
    try:
        for h in handlers:  # Hydra logs its report to stdout through its own handler: print it once
            root.removeHandler(h)
        logging.raiseExceptions = False  # `| head` closing the pipe is not an error
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            GlobalHydra.instance().hydra.show_info(which, config_name="config", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in handlers:
            root.addHandler(h)
        logging.raiseExceptions = raise_exceptions


def print_defaults(overrides: Sequence[str]) -> None:
    """Hydra's defaults list for these overrides, with the file each group's option came from. Hydra's own
    `hydra/...` entries are left out: `repro` does not use them."""
    check_overrides(overrides)
    compose_config(overrides)  # a bad override is refused with the usual message first
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            loader = GlobalHydra.instance().config_loader()
            defaults = loader.compute_defaults_list(
                config_name="config", overrides=list(overrides), run_mode=RunMode.RUN
            ).defaults
    finally:
        GlobalHydra.instance().clear()
    rows = []
    for d in defaults:
        if d.config_path is None or d.config_path.startswith("hydra/") or (d.package or "").startswith("hydra"):
            continue
        group, _, option = d.config_path.rpartition("/")
        rows.append([group or "(primary)", option, d.package or "", _file_of(CONFIG_MODULE, d.config_path)])
    print("Defaults List (the config file each group's option came from; later entries override earlier ones)")
    print(tabulate(rows, headers=["group", "option", "package", "file"], tablefmt="simple"))


def _file_of(module: str, config_path: str) -> str:
    path = Path(str(resources.files(module).joinpath(config_path + ".yaml")))
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
