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


@dataclass(frozen=True)
class Int:
    """An integer (not a bool) in [low, high]; `null` allowed when `nullable`."""

    low: int | None = None
    high: int | None = None
    nullable: bool = False

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not _in(value, self.low, self.high, False, False):
            return _describe("an integer", self.low, self.high, False, False, self.nullable)
        return None


@dataclass(frozen=True)
class Real:
    """A finite number (not a bool) in the interval, open or closed at each end; `null` allowed when `nullable`.
    `hint`: what to use instead when a value outside the interval means something elsewhere (appended to the error)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False
    hint: str = ""

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not _in(value, self.low, self.high, self.low_open, self.high_open)
        ):
            described = _describe("a finite number", self.low, self.high, self.low_open, self.high_open, self.nullable)
            return f"{described} ({self.hint})" if self.hint else described
        return None


@dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]

    def check(self, value: Any) -> str | None:
        return None if value in self.options else "one of " + ", ".join(repr(o) for o in self.options)


@dataclass(frozen=True)
class Bool:
    def check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "true or false"


@dataclass(frozen=True)
class Text:
    """A non-empty string (`null` allowed when `nullable`)."""

    nullable: bool = False

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        return (
            None
            if isinstance(value, str) and value.strip()
            else "a non-empty string" + (" or null" if self.nullable else "")
        )


@dataclass(frozen=True)
class SnapshotEpochs:
    def check(self, value: Any) -> str | None:
        if value in ("all", "none") or value is None:
            return None
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v != 0 for v in value)
        return None if ok else '"all", "none" or a list of non-zero epoch numbers (1-based, -1 = the last)'


@dataclass(frozen=True)
class OrWord:
    """A fixed word (e.g. "auto") or a value the wrapped rule accepts."""

    word: str
    rule: Any

    def check(self, value: Any) -> str | None:
        problem = None if value == self.word else self.rule.check(value)
        return None if problem is None else f"{self.word!r} or {problem}"


POSITIVE = Real(0, None, low_open=True)
FRACTION_OPEN = Real(0, 1, low_open=True, high_open=True)  # (0, 1)
FRACTION_HALF = Real(0, 1, high_open=True)  # [0, 1)
PROBABILITY = Real(0, 1)  # [0, 1]
COUNT = Int(1)
NON_NEGATIVE_INT = Int(0)

# key pattern -> rule (first match wins). Lists ("snapshot_epochs", "overrides") are rules on the list itself.
RULES: list[tuple[str, Any]] = [
    ("seed", NON_NEGATIVE_INT),
    ("output_root", Text()),
    ("progress", Choice(("auto", "bar", "plain", "none"))),
    ("eval_batch_size", COUNT),
    ("memorisation_samples", Int(0, nullable=True)),
    ("data.num_classes", Int(2)),
    ("data.subset", Int(2, nullable=True)),
    ("data.test_subset", Int(1, nullable=True)),
    ("data.root", Text(nullable=True)),
    ("optim.lr", POSITIVE),
    ("optim.momentum", PROBABILITY),
    ("optim.weight_decay", Real(0)),
    ("optim.epochs", COUNT),
    ("optim.schedule", Choice(("cosine", "multistep", "constant"))),
    ("optim.milestones.*", FRACTION_OPEN),
    ("optim.iterations", Int(1, nullable=True)),  # setting A: a schedule in steps (repro/training/schedule.py)
    ("optim.milestone_iterations.*", COUNT),
    ("optim.gamma", POSITIVE),
    ("optim.warmup_epochs", NON_NEGATIVE_INT),
    ("noise.kind", Choice(("none", "uniform", "exact_fraction", "cifar_n", "annotators"))),
    ("noise.rates.*", FRACTION_HALF),  # simulated annotators' error rates
    ("noise.type", Choice(("aggre", "random1", "random2", "random3", "worse", "noisy"))),  # CIFAR-N's label sets
    ("noise.file", Text(nullable=True)),
    ("noise.fraction", FRACTION_HALF),
    ("split.meta_fraction", FRACTION_OPEN),
    ("split.folds", COUNT),
    ("split.fold", NON_NEGATIVE_INT),
    ("split.held_out_labels", Choice(("clean", "noisy"))),  # repro/training/experiment.py: held_out_labels
    ("tracker.kind", Choice(("none", "wandb"))),
    ("tune.select", Choice(("final_val_acc", "best_val_acc"))),  # validation metrics only (repro/training/tuning.py)
    ("tune.keys.*", Text()),
    ("tune.runs.*.run", Text()),
    ("tracker.mode", Choice(("online", "offline", "disabled", "dryrun", "run"))),  # dryrun/run: W&B's legacy names
    ("tracker.log_checkpoint", Bool()),
    ("*batch_size", COUNT),
    ("*.seed", NON_NEGATIVE_INT),
    ("*.full_train", Bool()),
    ("*.nesterov", Bool()),
    ("*.static", Bool()),
    ("*.in_channels", COUNT),
    ("*.image_size", COUNT),
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
