"""Typed validation of every scalar in a resolved config, before any work (repro.config_tree.load_tree and
repro.config.validate_config).

Rules are a table: dotted key pattern (fnmatch: `*` matches any part, dots included) -> rule; the first matching
pattern wins, so specific keys come before wildcards. RULES here covers the keys every run has; a method's own keys
are declared by the method, next to its code (`Method.rules`, checked by repro.methods.check_method_config with the
same rule types). Any numeric scalar no rule names must still be finite. List elements are checked under `key.0`,
`key.1`, ... (patterns like `optim.milestones.*`).
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

from repro.errors import UserError
from repro.schema.rules import Bool, Choice, Int, OrWord, Real, SnapshotEpochs, Text

POSITIVE = Real(0, None, low_open=True)
FRACTION_OPEN = Real(0, 1, low_open=True, high_open=True)  # (0, 1)
FRACTION_HALF = Real(0, 1, high_open=True)  # [0, 1)
PROBABILITY = Real(0, 1)  # [0, 1]
COUNT = Int(1)
NON_NEGATIVE_INT = Int(0)

# key pattern -> rule (first match wins). Lists ("snapshot_epochs", "overrides") are rules on the list itself.
RULES: list[tuple[str, Any]] = [
    ("*batch_size", COUNT),
    ("*.static", Bool()),
]


@dataclass(frozen=True)
class Finite:
    """The fallback, and a method's rule for a key its own `check` looks after: a number must be finite."""

    def check(self, value: Any) -> str | None:
        if isinstance(value, float) and not math.isfinite(value):
            return "a finite number"
        return None


_AnyFinite = Finite

Rules = Sequence[tuple[str, Any]]


@lru_cache(maxsize=4096)
def rule_for(key: str) -> Any:
    return first_rule(key, RULES)


def first_rule(key: str, rules: Rules) -> Any:
    for pattern, rule in rules:
        if fnmatch.fnmatchcase(key, pattern):
            return rule
    return Finite()


def prefixed(prefix: str, rules: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A component's own rules (keys relative to its node, e.g. a method's `label_lr`) as table rows under
    `prefix` (`method.label_lr`)."""
    return [(f"{prefix}.{pattern}", rule) for pattern, rule in rules.items()]


def check_tree(tree: Mapping[str, Any], rules: Rules | None = None) -> None:
    """Raise UserError for the first scalar (or list) whose rule it breaks: key, value and what is allowed. `rules`:
    the table to use (default RULES, the keys every run has)."""
    lookup = rule_for if rules is None else (lambda key: first_rule(key, rules))
    for key, value in _items(tree, lookup):
        rule = lookup(key)
        if isinstance(value, (list, tuple)) and not isinstance(rule, SnapshotEpochs):
            continue  # its elements are checked one by one
        problem = rule.check(value)
        if problem is not None:
            shown = json.dumps(value, default=str)
            name = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)  # optim.milestones.1 -> optim.milestones[1]
            override = name.split("[")[0]
            raise UserError(
                f"{name}={shown} ({type(value).__name__}) is not allowed: it must be {problem}. Nothing was run or "
                f"written. Fix the override ({override}=...) or the sweep file that sets it; `repro train "
                "--print-config` shows the resolved config."
            )


def _items(tree: Mapping[str, Any], lookup: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from _items(v, lookup, key + ".")
        elif isinstance(v, (list, tuple)):
            yield key, v
            if not isinstance(lookup(key), SnapshotEpochs):
                for i, item in enumerate(v):
                    if isinstance(item, Mapping):
                        yield from _items(item, lookup, f"{key}.{i}.")
                    else:
                        yield f"{key}.{i}", item
        else:
            yield key, v


def check_paths(tree: Mapping[str, Any]) -> None:
    """Paths that must exist do: a CIFAR data.root (checked at load time for `repro train`, not when a sweep is
    planned on a machine that may not see the data)."""
    data = tree.get("data") or {}
    name, root = str(data.get("name", "")), data.get("root")
    if name.startswith("cifar") and root and not os.path.isdir(os.path.expanduser(str(root))):
        folder = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
        raise UserError(
            f"data.root={root} does not exist: for data={name} it must be the directory that contains {folder}/ "
            "(the torchvision layout; nothing is downloaded). Pass data.root=<that directory> or set CIFAR_ROOT "
            "(docs/training.md, 'Pointing at CIFAR'). Nothing was run or written."
        )


def _in(v: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (v < low or (low_open and v == low)):
        return False
    return not (high is not None and (v > high or (high_open and v == high)))


def _describe(kind: str, low: Any, high: Any, low_open: bool, high_open: bool, nullable: bool) -> str:
    if low is not None and high is not None:
        text = f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        text = f"{kind} {'>' if low_open else '>='} {low}"
    elif high is not None:
        text = f"{kind} {'<' if high_open else '<='} {high}"
    else:
        text = kind
    return text + (" or null" if nullable else "")


__all__: Sequence[str] = (
    "RULES",
    "Int",
    "Real",
    "Choice",
    "Bool",
    "Text",
    "Finite",
    "OrWord",
    "SnapshotEpochs",
    "check_tree",
    "check_paths",
    "first_rule",
    "prefixed",
    "rule_for",
)
