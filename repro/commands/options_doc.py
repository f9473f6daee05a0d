"""Every config key, what it allows and what it means, made from the declarations (repro/conf/schema.py, each noise
model's and each method's `Options`): the key list of `repro train --help` and the tables of docs/options.md.

    python -m repro.commands.options_doc > docs/options.md

tests/commands/test_options_doc.py fails when docs/options.md and the declarations differ."""

from __future__ import annotations

import json
import textwrap
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml
from omegaconf import OmegaConf

from repro.conf.networks import NETWORKS
from repro.conf.schema import TRACKERS, Run
from repro.config_tree import compose_config
from repro.data.noise import NOISE_MODELS, noise_options
from repro.methods import METHODS, method_class, method_declaration, method_options
from repro.schema import OptionDoc, describe

GROUPS = ("data", "model", "optim", "split", "tracker")


def help_keys(width: int = 118) -> str:
    """The keys of `repro train --help`: every key of the config groups and the top level, with what it allows."""
    lines = []
    for doc in [*describe(Run), *_network_keys()]:
        if doc.key in ("method", "noise", "tracker", "model") or doc.key.startswith(("tune.", "sweep.", "halving.")):
            continue  # a method's / noise model's keys: docs/options.md; tune / sweep / halving: set by `repro sweep`
        allowed = doc.allowed + ("" if doc.required else f" (default {_value(doc.default)})")
        lines += textwrap.wrap(
            f"{doc.key:<27} {allowed}" + (f"; {doc.why}" if doc.why else ""),
            width,
            initial_indent="  ",
            subsequent_indent=" " * 30,
        )
    return "\n".join(lines)


def _network_keys() -> list[OptionDoc]:
    """`model.name`, then each network's own keys, once per key and network class, with the networks that have it."""
    docs: dict[tuple[str, type], tuple[OptionDoc, list[str]]] = {}
    for name, cls in NETWORKS.items():
        for doc in describe(cls, "model"):
            docs.setdefault((doc.key, cls if doc.key != "model.name" else object), (doc, []))[1].append(name)
    return [
        doc if doc.key == "model.name" else OptionDoc(doc.key, f"model={'|'.join(names)}: {doc.allowed}", *_rest(doc))
        for doc, names in docs.values()
    ]


def _rest(doc: OptionDoc) -> tuple[str, Any, bool]:
    return doc.why, doc.default, doc.required


def options_markdown() -> str:
    """docs/options.md."""
    default = _composed("seed=0")
    out = [
        "# Config options",
        "",
        "Every key of a run's config: what it allows, its value in the default config (or in the option's own config",
        "file), and what it means. Made from the declarations by `python -m repro.commands.options_doc >",
        "docs/options.md` (repro/conf/schema.py for the groups; each noise model's and each method's `Options`);",
        "tests/commands/test_options_doc.py fails when this file and the code differ. A value is refused, before",
        "anything is run or written, with the key, the value and what is allowed. `repro train --cfg job [overrides]`",
        "prints a whole resolved config.",
        "",
        "## Top-level keys and the config groups",
        "",
        f"The default column is the default config's value (`data={default['data']['name']}`, `model="
        f"{default['model']['name']}` and its optim preset, `split=holdout`, `tracker={default['tracker']['kind']}`;"
        " `${oc.env:NAME,default}`: the environment variable NAME, else the default).",
        "",
    ]
    out += _table(describe(Run), default, skip=("method", "noise", "tracker", "model"))
    out += ["", "## model (`model=<name>` picks the network and its keys, repro/conf/networks.py)", ""]
    out += [f"`model.name`: {', '.join(NETWORKS)}. A key at its default leaves the run id as it was.", ""]
    for name, cls in NETWORKS.items():
        values = _option_file("model", name)
        out += [f"### model={name}: {cls.__name__}", "", *_table(describe(cls, "model"), values, skip=("model.name",))]
        out += [""]
    out += ["", "## tracker (`tracker.kind` picks it)", ""]
    for kind, cls in TRACKERS.items():
        out += [f"### tracker={kind}", "", *_table(describe(cls, "tracker"), _option_file("tracker", kind)), ""]
    out += ["## noise (`noise.kind` picks the model, repro/data/noise/)", ""]
    for kind, model in NOISE_MODELS.items():
        values = _option_file("noise", kind)
        out += [f"### noise={kind}: {model.__name__} (`{model.__module__}`)", ""]
        out += [*_table(describe(noise_options({"kind": kind}), "noise"), values), ""]
    out += ["## method (`method=<name>`: each method's own `Options`, repro/methods/)", ""]
    for name in METHODS:
        cls = method_class(name)
        out += [f"### method={name}: {cls.__name__} (`{cls.__module__}`)", ""]
        docs = list(describe(method_options(method_declaration(name)), "method"))
        out += [*(_table(docs, _option_file("method", name)) if docs else ["No options."]), ""]
    return "\n".join(out).rstrip() + "\n"


def _composed(selection: str) -> Mapping[str, Any]:
    """The default config with one group selection (`seed=0`: none), as its files say it: interpolations unresolved,
    so this page does not depend on the environment."""
    return OmegaConf.to_container(compose_config([selection]), resolve=False)  # type: ignore[return-value]


def _option_file(group: str, name: str) -> Mapping[str, Any]:
    """A group option's own values, read from its YAML file, under its group key; {} where the option has no file
    (a kind or method registered in code, whose declared defaults the table shows)."""
    path = resources.files("repro.conf").joinpath(group, f"{name}.yaml")
    return {group: yaml.safe_load(path.read_text())} if path.is_file() else {}


def _table(docs: Iterable[OptionDoc], values: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    rows = ["| key | allowed | default | meaning |", "|---|---|---|---|"]
    for doc in docs:
        if doc.key in skip or doc.key.startswith(tuple(f"{s}." for s in skip)):
            continue
        value = _lookup(values, doc.key)
        shown = _value(value) if value is not _ABSENT else ("" if doc.required else _value(doc.default))
        rows.append(f"| `{doc.key}` | {_cell(doc.allowed)} | {_cell(shown)} | {_cell(doc.why)} |")
    return rows


_ABSENT = object()


def _lookup(values: Mapping[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value) if not isinstance(value, str) else value


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


if __name__ == "__main__":
    print(options_markdown(), end="")
