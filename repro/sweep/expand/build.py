"""Building blocks of a sweep's expansion: parse overrides, resolve a run's config (fast, compose.py) and make its
PlannedRun. Shared by expand.py, tune.py and teachers.py, which import it (it imports none of them)."""

from __future__ import annotations

from typing import Any, Sequence

from repro.runs.rundir import run_id
from repro.sweep.expand.compose import FastComposer, Override, parse_override, quote_value
from repro.sweep.spec.model import Part, PlannedRun

COMPOSER = FastComposer()


def make_run(
    row: str,
    column: str,
    seed: int,
    stage: str,
    fold: int | None,
    overrides: list[Override],
    depends_on: tuple[str, ...],
    where: str,
    *,
    config: dict | None = None,
) -> PlannedRun:
    overrides = dedupe(overrides + [parse_override(f"sweep.stage={quote_value(stage)}", where="stage")])
    if config is None:  # a final's config is resolved before its folds (it knows how many there are)
        config = COMPOSER.resolve(overrides, where=f"{where}, {stage} run")
    return PlannedRun(
        run_id=run_id(config),
        row=row,
        column=column,
        seed=seed,
        stage=stage,
        fold=fold,
        overrides=tuple(o.text for o in overrides),
        config=config,
        depends_on=depends_on,
    )


def resolve(overrides: list[Override], stage: str, where: str) -> dict:
    overrides = dedupe(overrides + [parse_override(f"sweep.stage={quote_value(stage)}", where="stage")])
    return COMPOSER.resolve(overrides, where=f"{where}, {stage} run")


def parse_all(texts: Sequence[str], where: str) -> list[Override]:
    return [parse_override(t, where=where) for t in texts]


class ParsedPart:
    def __init__(self, overrides: list[Override], learn: list[Override], final: list[Override]) -> None:
        self.overrides, self.learn, self.final = overrides, learn, final


def parse_part(part: Part, where: str) -> ParsedPart:
    return ParsedPart(
        parse_all(part.overrides, where),
        parse_all(part.learn, f"{where}.learn"),
        parse_all(part.final, f"{where}.final"),
    )


def dedupe(overrides: list[Override]) -> list[Override]:
    """One override per key, the last one's value, in the order the keys were last set (Hydra: last wins)."""
    last: dict[str, Override] = {}
    for o in overrides:
        last.pop(o.key, None)
        last[o.key] = o
    return list(last.values())


def override_value(value: Any) -> str:
    """A scalar, list or dict written in Hydra's override grammar (strings quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{override_value(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
