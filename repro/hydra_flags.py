"""Hydra's command-line habits on `repro train`: what its override grammar may say here, and overrides anywhere.

`repro` owns run directories, launchers and sweeps, so Hydra's own settings (`hydra/launcher=...`,
`hydra.run.dir=...`) would be ignored or, worse, train on a login node: they are refused with the way to get the
same thing. Every key already exists in the config tree, so `+key=...` / `++key=...` (add) and `~key` (delete) would
only change the run id with a key no code reads: refused by name, as is a key that does not exist. The one
free-text key is `notes=...` (and W&B's `tracker.tags=[...]`): neither enters the run id.
"""

from __future__ import annotations

import argparse
import difflib
import shlex
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import OmegaConf

from repro.errors import UserError
from repro.path_keys import PATH_KEYS, hydra_quoted, quoted_paths

HYDRA_HINT = (
    "To run on a cluster use `repro sweep FILE --executor slurm --profile PROFILE` (or `repro train -m ... "
    "--executor slurm --profile PROFILE`); to choose where runs land use output_root=DIR; runs land in "
    "<output_root>/runs/<run_id>/ (run ids: docs/architecture.md)."
)
FREE_KEYS_HINT = (
    "To label a run, use notes='...' (free text) or tracker.tags=[a,b] (W&B tags): neither enters the run id."
)


@lru_cache(maxsize=1)
def _parser() -> OverridesParser:
    return OverridesParser.create()


def parse(overrides: Sequence[str]) -> list[Override]:
    """Hydra's own parse of the overrides (its grammar: comma lists, range(), choice(), quoting)."""
    overrides = quoted_paths(overrides)
    try:
        return _parser().parse_overrides(list(overrides))
    except HydraException as exc:
        raise UserError(
            f"Cannot parse the overrides {list(overrides)}: {' '.join(str(exc).split())} Overrides look like "
            f"group=option (model=resnet18) or key=value (optim.lr=0.1).{_quoting_hint(overrides)}"
        ) from None


def _path_hint(o: Override) -> str:
    """For a path key read as a comma list: the quoted form that makes it one path."""
    if o.key_or_group not in PATH_KEYS or o.input_line is None:
        return ""
    value = o.input_line.split("=", 1)[1]
    return f' A path that holds a comma is quoted: "{o.key_or_group}={hydra_quoted(value)}".'


def _quoting_hint(overrides: Sequence[str]) -> str:
    """The exact quoted form of the first override Hydra cannot read, as Hydra and the shell need it."""
    for text in overrides:
        try:
            _parser().parse_overrides([text])
        except HydraException:
            key, sep, value = str(text).partition("=")
            if sep and not value.startswith(("[", "{", "'", '"')) and not value.endswith(")"):
                quoted = f"{key}={hydra_quoted(value)}"
                shell = f'"{quoted}"' if not set('"$`\\!') & set(quoted) else shlex.quote(quoted)
                return (
                    f" To pass {value!r} as one string value, quote it for Hydra, and the whole for the shell: {shell}"
                )
            break
    return " Quote a value that holds spaces, '=', brackets or non-ASCII letters: key='a b'."


def check_overrides(overrides: Sequence[str], *, multirun: bool = False) -> list[Override]:
    """Refuse what Hydra would accept but `repro` would silently get wrong; returns the parsed overrides."""
    parsed = parse(overrides)
    for o in parsed:
        key = o.key_or_group
        if key == "hydra" or key.startswith(("hydra/", "hydra.")) or (o.package or "").startswith("hydra"):
            raise UserError(
                f"{o.input_line!r} sets Hydra's own configuration, which `repro` does not use (it would be "
                f"ignored, or run a launcher on this machine). {HYDRA_HINT}"
            )
        if o.is_add() or o.is_force_add() or o.is_delete():
            verb = "deletes" if o.is_delete() else "adds"
            raise UserError(
                f"{o.input_line!r} {verb} the key {key!r}: a run's config has a fixed set of keys, and an added or "
                f"deleted one would change the run id while no code reads it. Set an existing key without "
                f"+/++/~ (`repro train --cfg job` lists them). {FREE_KEYS_HINT}"
            )
        if o.package is not None:
            raise UserError(
                f"{o.input_line!r}: @package overrides are not supported; select options with group=option."
            )
        if o.is_sweep_override() and not multirun:
            raise UserError(
                f"{o.input_line!r} is a sweep (a comma list, range() or choice()): run every combination with "
                f"`repro train -m {' '.join(overrides)}` (done runs are skipped; a sweep file lists its grid as "
                f"rows, columns and seeds). A list value is written in brackets: key=[a,b].{_path_hint(o)}"
            )
        if o.is_sweep_override() and multirun and not o.is_discrete_sweep():
            raise UserError(
                f"{o.input_line!r}: interval() sweeps need a search algorithm; `repro train -m` runs "
                "comma lists, range() and choice() (every combination)."
            )
    return parsed


def unknown_key_error(overrides: Sequence[str], cfg_without_keys: Any) -> UserError | None:
    """The first key=value override whose key is not in `cfg_without_keys` (the config composed from the group
    selections only), as an error that names it and the nearest existing keys; None if every key exists."""
    groups = _groups()
    for o in parse(overrides):
        key = o.key_or_group
        if key in groups or OmegaConf.select(cfg_without_keys, key, default=_Missing) is not _Missing:
            continue
        known = list(_dotted_keys(OmegaConf.to_container(cfg_without_keys, resolve=False)))
        near = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(near)}?" if near else ""
        return UserError(
            f"Unknown config key {key!r} (in {o.input_line!r}): no such key for this group selection.{hint} "
            "Keys of a method exist only when it is selected (method.label_lr needs method=class_labels); "
            f"`repro train --cfg job [groups]` prints them all. {FREE_KEYS_HINT}"
        )
    return None


def group_selections(overrides: Sequence[str]) -> list[str]:
    """The overrides that select config group options (model=resnet18), in order."""
    groups = _groups()
    return [o for o, p in zip(overrides, parse(overrides)) if p.key_or_group in groups]


class _Missing:
    pass


def _dotted_keys(node: Any, prefix: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _dotted_keys(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1]


@lru_cache(maxsize=1)
def _groups() -> frozenset[str]:
    """The config groups of the packaged tree: its folders (data, model, optim, ...) and the folders inside them
    (optim/schedule, optim/warmup, ...: the recipe presets, selected as `optim/schedule=step`)."""

    def folders(node):
        return [p for p in node.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]

    root = resources.files("repro.conf")
    return frozenset(
        [p.name for p in folders(root)] + [f"{p.name}/{sub.name}" for p in folders(root) for sub in folders(p)]
    )


def config_groups() -> frozenset[str]:
    """Every config group a `group=option` override may select (nested ones as `optim/schedule`)."""
    return _groups()


def looks_like_override(token: str) -> bool:
    """`key=value`, `+key=value`, `~key`: a token that is not an option and not an option's value."""
    return not token.startswith("-") and ("=" in token or token.startswith(("~", "+")))


def parse_with_overrides(
    parser: argparse.ArgumentParser, argv: Sequence[str], dest: str, roots: frozenset[str] | None = None
) -> argparse.Namespace:
    """Parse `argv` with overrides allowed anywhere (`repro sweep FILE --rows X progress=plain`): override tokens
    are taken out first (so an option with several values cannot swallow them), then appended to `dest`. With
    `roots`, only tokens whose first key part is one of them count as overrides (a column name may hold a '=')."""

    def is_override(token: str) -> bool:
        if not looks_like_override(token):
            return False
        root = token.lstrip("+~").split("=", 1)[0].split(".", 1)[0].split("/", 1)[0]
        return roots is None or root in roots or root == "hydra"

    argv = list(argv)
    taken = {i for i, t in enumerate(argv) if is_override(t)}
    overrides = quoted_paths([t for i, t in enumerate(argv) if i in taken])
    rest = [t for i, t in enumerate(argv) if i not in taken]
    if "--" in rest:
        parser.error("`--` is not supported; give overrides as key=value anywhere on the line")
    args = parser.parse_args(rest)
    setattr(args, dest, list(getattr(args, dest) or []) + overrides)
    return args


@lru_cache(maxsize=1)
def config_roots() -> frozenset[str]:
    """Top-level keys and groups of the config tree (what an override's key may start with)."""
    top = yaml.safe_load(resources.files("repro.conf").joinpath("config.yaml").read_text())
    return frozenset(k for k in top if k != "defaults") | _groups()
