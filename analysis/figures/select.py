"""Which runs a figure draws: the paper's selection by default, `repro figures --where key=value ...` otherwise.

A selection is config keys (as the run frame flattens them: data.name, model.name, noise.fraction, ...) and the
values they must have; `key=*` lifts a key. Each figure has the paper's selection as its default (PAPER, from the
paper's captions and text); `--where` overrides it key by key. The runs that match are grouped by configuration
(everything that enters the run id except the seed) and one configuration is drawn: the one with the most finished
seeds (the paper's "mean and std over three runs"), then the most runs of its protocol over all folds (a fold run
of the 5-fold protocol has four siblings, a tuning-grid point none), then, on the same data and network, the most
epochs. Tuning-stage runs (sweep.stage=tune) are candidates only when nothing else is, or when --where names
sweep.stage. Two configurations that tie on all of these, or
no match at all for an explicit --where, is a SelectionError that lists the candidates and how to pick one.

The paper's selection names CIFAR-100 and the paper's networks, which the demo (digits) does not have: when no
`--where` is given and the paper's selection matches nothing, it is tried without its data and model keys (the same
protocol on other data), then over every candidate; what was drawn is always printed and written on the figure.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from repro.errors import UserError
from repro.figures.common import RunGroup, Skip, config_label
from repro.runs.rundir import RunDir, flatten, result_config

# The paper's selection of each figure (and of each part of Figure 2). Figure 2: "ResNet18 for CIFAR100" (Table 1's
# learning runs, fold 0 of the 5-fold protocol). Figures 3-4: "CIFAR100 in the 40% noise setting", the noisy tables'
# "Ours" (WRN-28-10, the entropy curriculum at its default readings); setting A's noise model (Table 6, noise=uniform;
# Table 7's Ours is on noise=exact_fraction), the setting the paper's text turns to right after Figure 4. The two
# figures of ours follow the nearest paper figure; the targets' figure draws Table 4's teacher, Table 1's dynamic
# replay of ResNet18 on CIFAR-100 (not Table 3's static one).
DATA_MODEL = ("data.name", "model.name")


def _method_defaults(method: str, keys: Sequence[str]) -> dict[str, str]:
    """{method.<key>: its value in repro/conf/method/<method>.yaml} for the keys the file has: the options a table's
    "Ours" row leaves at their defaults (e.g. the curriculum's readings, whose other values sweeps/table10.yaml runs
    beside it on the same data)."""
    import yaml

    from repro.conf import __file__ as conf_init

    values = yaml.safe_load((Path(conf_init).parent / "method" / f"{method}.yaml").read_text(encoding="utf-8"))
    return {f"method.{k}": str(values[k]).lower() for k in keys if k in values}


OURS_NOISY = _method_defaults("instance_labels", ("curriculum_weight", "curriculum_placement"))
PAPER: dict[str, dict[str, str]] = {
    "figure2/class": {"data.name": "cifar100", "model.name": "resnet18", "split.fold": "0"},
    "figure2/instance": {"data.name": "cifar100", "model.name": "resnet18", "split.fold": "0"},
    "figure3": {
        "data.name": "cifar100",
        "model.name": "wrn28_10",
        "noise.kind": "uniform",
        "noise.fraction": "0.4",
        "method.curriculum": "entropy",
        **OURS_NOISY,
    },
    "figure4": {
        "data.name": "cifar100",
        "model.name": "wrn28_10",
        "noise.kind": "uniform",
        "noise.fraction": "0.4",
        "method.curriculum": "entropy",
        **OURS_NOISY,
    },
    "figure_noise_methods": {
        "data.name": "cifar100",
        "model.name": "wrn28_10",
        "noise.kind": "uniform",
        "noise.fraction": "0.4",
    },
    "figure_targets": {"data.name": "cifar100", "model.name": "resnet18", "method.static": "false"},
}
ANY = "*"


class SelectionError(UserError):
    """A figure's selection matches no run, or more than one configuration equally well."""


def parse_where(items: Sequence[str] | None) -> dict[str, str]:
    """`key=value` words -> {key: value}; a later word for the same key wins."""
    where: dict[str, str] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(
                f"--where takes config keys and values as key=value (e.g. --where data.name=cifar10 "
                f"model.name=vgg16; key=* lifts one of the paper's keys), not {item!r}."
            )
        where[key.strip()] = value.strip()
    return where


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def matches(value: Any, wanted: str) -> bool:
    """Does a frame cell hold the value typed on the command line? (strings case-insensitively, numbers by value,
    true/false, null)."""
    if wanted == ANY:
        return True
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return wanted.lower() in ("null", "none")
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if str(value).lower() == wanted.lower():
        return True
    try:
        return math.isclose(float(value), float(wanted), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _filter(rows: pd.DataFrame, selection: Mapping[str, str]) -> pd.DataFrame:
    for key, wanted in selection.items():
        if wanted == ANY:
            continue
        default = OURS_NOISY.get(key)  # runs made before such an option existed ran with its default
        if key not in rows:
            if default is not None and matches(default, wanted):
                continue
            return rows.iloc[0:0]
        mask = [matches(default if default is not None and _missing(v) else v, wanted) for v in rows[key]]
        rows = rows.loc[pd.Series(mask, index=rows.index, dtype=bool)]
    return rows


def _noun(what: str) -> str:
    return what.split(" (")[0]


def _text(selection: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in selection.items()) or "(no keys)"


@dataclass
class _Config:
    members: list[tuple[int, RunDir, dict]] = field(default_factory=list)

    @property
    def config(self) -> dict:
        return self.members[0][2]


def _key(config: Mapping[str, Any], *, folds: bool = False) -> str:
    """The configuration up to the seed (and, with folds=True, up to the fold of the 5-fold protocol)."""
    cfg = {k: v for k, v in result_config(config).items() if k != "seed"}
    if folds and isinstance(cfg.get("split"), Mapping):
        cfg["split"] = {k: v for k, v in cfg["split"].items() if k != "fold"}
    return json.dumps(cfg, sort_keys=True, default=str)


def _group(rows: pd.DataFrame, usable: Callable[[RunDir, dict], bool]) -> dict[str, _Config]:
    groups: dict[str, _Config] = {}
    for path in rows["path"] if "path" in rows else ():
        rd = RunDir(Path(path))
        config = rd.read_config()
        if not usable(rd, config):
            continue
        groups.setdefault(_key(config), _Config()).members.append((int(config.get("seed", 0)), rd, config))
    return groups


def _rank(groups: dict[str, _Config], everything: dict[str, _Config]) -> list[tuple[tuple[int, int], _Config]]:
    """(-seeds, -runs of the same protocol over all folds) per configuration, best first: a fold of the 5-fold
    protocol has four sibling folds, a tuning-grid point has none."""
    protocol: dict[str, int] = {}
    for g in everything.values():
        key = _key(g.config, folds=True)
        protocol[key] = protocol.get(key, 0) + len(g.members)
    ranked = [((-len(g.members), -protocol.get(_key(g.config, folds=True), 0)), g) for g in groups.values()]
    return sorted(ranked, key=lambda r: (r[0], r[1].members[0][1].run_id))


def longest(tied: list, config_of: Callable[[Any], Mapping[str, Any]]) -> list:
    """Of configurations tied on seeds, those with the most epochs when all are the same data set and network (two
    protocols of one experiment, e.g. the digits demo's Table 6 Ours and its `--extra` Table 12's, shorter: the
    table's own budget wins); otherwise all of them (a real ambiguity, e.g. two networks: the user picks)."""
    configs = [config_of(g) for g in tied]
    if len(tied) < 2 or len({(c["data"]["name"], c["model"]["name"]) for c in configs}) > 1:
        return tied
    most = max(int(c["optim"]["epochs"]) for c in configs)
    return [g for g, c in zip(tied, configs) if int(c["optim"]["epochs"]) == most]


def is_ours_noisy(config: Mapping[str, Any]) -> bool:
    """Is this instance-label config the noisy tables' "Ours" (the entropy curriculum at its default readings)?"""
    method = config.get("method") or {}
    for key, wanted in PAPER["figure4"].items():
        if key.startswith("method."):
            value = method.get(key.split(".", 1)[1])
            if not matches(OURS_NOISY.get(key) if _missing(value) else value, wanted):
                return False
    return True


def describe_candidates(groups: Sequence[_Config], limit: int = 8, always: Sequence[str] = ()) -> str:
    """One '; '-separated entry per configuration: the keys of `always` (those of the selection) and those on which
    they differ, seeds, a run id."""
    flats = [flatten(result_config(g.config)) for g in groups]
    keys = sorted(
        {k for f in flats for k in f if k != "seed" and len({json.dumps(x.get(k), default=str) for x in flats}) > 1}
    )
    first = [k for k in always if k != "seed"] + [k for k in DATA_MODEL if k in keys and k not in always]
    shown = first + [k for k in keys if k not in first]
    entries = []
    for g, flat in list(zip(groups, flats))[:limit]:
        where = " ".join(f"{k}={flat.get(k)}" for k in shown[:8]) or config_label(g.config)
        entries.append(f"{where} ({len(g.members)} seed(s), e.g. {g.members[0][1].run_id})")
    more = f"; and {len(groups) - limit} more" if len(groups) > limit else ""
    return "; ".join(entries) + more


def check_keys(frame: pd.DataFrame, where: Mapping[str, str]) -> None:
    """Refuse --where keys that no run has (a typo would otherwise read as "matches nothing")."""
    unknown = [k for k, v in where.items() if v != ANY and k not in frame.columns]
    if unknown:
        near = sorted({c for k in unknown for c in difflib.get_close_matches(k, [str(c) for c in frame.columns], 3)})
        raise SelectionError(
            f"--where names config key(s) {', '.join(unknown)} that no run in this output root has"
            + (f" (did you mean {', '.join(near)}?)" if near else "")
            + "; keys are dotted config paths as the runs' config.yaml holds them (e.g. data.name, "
            "model.name, noise.fraction, method.label_lr)."
        )


def select_group(
    frame: pd.DataFrame,
    name: str,
    candidates: pd.DataFrame,
    *,
    what: str,
    where: Mapping[str, str] | None,
    usable: Callable[[RunDir, dict], bool] = lambda rd, c: True,
) -> RunGroup:
    """The run group figure part `name` draws among `candidates` (frame rows of its kind of run, `what` names
    them: "finished ... runs (...)"): see the module docstring. Raises Skip (no candidates at all) or
    SelectionError."""
    where = dict(where or {})
    check_keys(frame, where)
    if "sweep.stage" not in where and "sweep.stage" in candidates and len(candidates):
        reported = candidates[candidates["sweep.stage"].map(lambda v: str(v) != "tune")]
        if len(_group(reported, usable)):  # tuning-grid runs draw only when nothing else does, or --where asks
            candidates = reported
    everything = _group(candidates, usable)
    if not everything:
        raise Skip(f"no {what}.")
    paper = PAPER.get(name, {})
    if where:
        tries = [({**paper, **where}, f"--where {_text(where)} (over the paper's {_text(paper)})")]
    else:
        portable = {k: v for k, v in paper.items() if k not in DATA_MODEL}
        tries = [
            (paper, f"the paper's selection ({_text(paper)})"),
            (
                portable,
                f"the paper's selection without its data and model ({_text(portable)}), as no run "
                f"matched {_text({k: paper[k] for k in DATA_MODEL if k in paper})}",
            ),
            ({}, f"the only candidates present, as no run matched the paper's selection ({_text(paper)})"),
        ]
    for selection, how in tries:
        groups = _group(_filter(candidates, selection), usable)
        if not groups:
            continue
        ranked = _rank(groups, everything)
        best = longest([g for rank, g in ranked if rank == ranked[0][0]], lambda g: g.config)
        if len(best) > 1:
            raise SelectionError(
                f"{name}: {how} matches {len(best)} configurations of {_noun(what)} with "
                f"{len(best[0].members)} finished seed(s) each, and a figure draws one: {describe_candidates(best)}. "
                "Pick one with `repro figures --where key=value ...` (e.g. one of the differing keys above)."
            )
        members = sorted(best[0].members, key=lambda m: (m[0], m[1].run_id))
        return RunGroup([m[1] for m in members], members[0][2], how, len(ranked) - 1)
    raise SelectionError(
        f"{name}: no {_noun(what)} matches --where {_text(where)} (with the paper's other keys: "
        f"{_text({k: v for k, v in paper.items() if k not in where})}). The candidates in this output root: "
        f"{describe_candidates([g for _, g in _rank(everything, everything)], always=list({**paper, **where}))}. "
        "Change --where, or "
        "lift one of the paper's keys with key=*."
    )
