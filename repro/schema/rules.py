"""What a config value may be: the rule types a typed declaration (repro/schema/declare.py) derives from a field's
annotation and bounds. Each rule's `check(value)` returns None when the value is allowed, else the words that end
"it must be ..." in the error (`describe()` gives the same words for `repro train --help` and docs/options.md).

Why these instead of Python's own types: a config value is what YAML and Hydra's override grammar made of the text,
and the run id hashes it as it is. So nothing is converted (1 stays 1, never 1.0; "yes" is not true), a bool is never
taken for a number, and a number must be finite."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence


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
            return self.describe()
        return None

    def describe(self) -> str:
        return _describe("an integer", self.low, self.high, False, False, self.nullable)


@dataclass(frozen=True)
class Real:
    """A finite number (not a bool) in the interval, open or closed at each end; `null` allowed when `nullable`."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not _in(value, self.low, self.high, self.low_open, self.high_open)
        ):
            return self.describe()
        return None

    def describe(self) -> str:
        return _describe("a finite number", self.low, self.high, self.low_open, self.high_open, self.nullable)


@dataclass(frozen=True)
class Choice:
    """One of fixed values, or of a registry's names (`options` a callable, asked at each check: a kind registered
    by a test file counts)."""

    options: tuple[Any, ...] | Callable[[], Sequence[Any]]

    def values(self) -> tuple[Any, ...]:
        return tuple(self.options() if callable(self.options) else self.options)

    def check(self, value: Any) -> str | None:
        return None if any(value == o and type(value) is type(o) for o in self.values()) else self.describe()

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.values())


@dataclass(frozen=True)
class Bool:
    nullable: bool = False

    def check(self, value: Any) -> str | None:
        return None if isinstance(value, bool) or (value is None and self.nullable) else self.describe()

    def describe(self) -> str:
        return "true or false" + (" or null" if self.nullable else "")


@dataclass(frozen=True)
class Text:
    """A non-empty string (`null` allowed when `nullable`)."""

    nullable: bool = False

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        return None if isinstance(value, str) and value.strip() else self.describe()

    def describe(self) -> str:
        return "a non-empty string" + (" or null" if self.nullable else "")


@dataclass(frozen=True)
class Scalar:
    """Free text a user labels a run with (`notes`, a sweep cell's name): any string, number or bool, or null; never
    a list or mapping. A number must be finite."""

    def check(self, value: Any) -> str | None:
        if value is None or isinstance(value, (str, bool, int)):
            return None
        return None if isinstance(value, float) and math.isfinite(value) else self.describe()

    def describe(self) -> str:
        return "a string, a number or null"


@dataclass(frozen=True)
class Anything:
    """A value no rule of its own constrains here (a tuned key's value, which the key's own rule checks): any
    value, a number finite."""

    def check(self, value: Any) -> str | None:
        return "a finite number" if isinstance(value, float) and not math.isfinite(value) else None

    def describe(self) -> str:
        return "any value"


@dataclass(frozen=True)
class SnapshotEpochs:
    def check(self, value: Any) -> str | None:
        if value in ("all", "none") or value is None:
            return None
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v != 0 for v in value)
        return None if ok else self.describe()

    def describe(self) -> str:
        return '"all", "none" or a list of non-zero epoch numbers (1-based, -1 = the last)'


@dataclass(frozen=True)
class OrWord:
    """A fixed word (e.g. "auto") or a value the wrapped rule accepts."""

    word: str
    rule: Any

    def check(self, value: Any) -> str | None:
        return None if value == self.word or self.rule.check(value) is None else self.describe()

    def describe(self) -> str:
        return f"{self.word!r} or {self.rule.describe()}"


@dataclass(frozen=True)
class ListOf:
    """A list whose every element the wrapped rule accepts (an element is named `key[i]` in the error); `null`
    allowed when `nullable`."""

    element: Any
    nullable: bool = False

    def check(self, value: Any) -> str | None:
        if value is None and self.nullable:
            return None
        return None if isinstance(value, (list, tuple)) else self.describe()

    def describe(self) -> str:
        element = self.element.describe()
        return f"a list of {_plural(element)}" + (" or null" if self.nullable else "")


def _plural(text: str) -> str:
    """'an integer >= 1' -> 'integers >= 1', for a list's description."""
    plurals = (
        ("an integer", "integers"),
        ("a finite number", "finite numbers"),
        ("a non-empty string", "strings"),
        ("any value", "values"),
        ("a list of", "lists of"),
    )
    for one, many in plurals:
        if text.startswith(one):
            return many + text[len(one) :]
    return f"values each {text}"


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
