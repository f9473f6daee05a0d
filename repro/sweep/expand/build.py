"""Make a planned run: resolve its config once (compose.py) and validate it once. Shared by expand.py, tune.py,
teachers.py and the preflight, which import it (it imports none of them).

Takes a run's overrides (overrides.py) or a config derived from another run's; returns its `PlannedRun`. The one
validation of a planned run is here, through the public validation of a run's config
(`repro.config.validate_config`); the job that trains it checks only what can differ on its node."""

from __future__ import annotations

from typing import Any, Mapping

from repro import config as run_config
from repro.errors import UserError
from repro.runs.rundir import run_id
from repro.sweep.expand.compose import FastComposer
from repro.sweep.expand.overrides import Override, dedupe, parse_override, quote_value
from repro.sweep.spec.model import PlannedRun

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
    """A planned run of `stage`: its overrides (to show the run and replay it with `repro train`) and its config,
    resolved from them, or `config` for a run derived from another (a replay's fold runs, cross-validation folds:
    repro/labels/fold_runs.py), with sweep.stage set; validated here, once."""
    overrides = dedupe(overrides + [parse_override(f"sweep.stage={quote_value(stage)}", where="stage")])
    where = f"{where}, {stage} run"
    if config is None:
        config = COMPOSER.compose(overrides, where=where)
    else:
        config = {**config, "sweep": {**config["sweep"], "stage": stage}}
    try:
        run_config.validate_config(_AttrView(config))
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
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


class _AttrView:
    """Read-only attribute access to a plain dict, so `validate_config` runs without building a DictConfig."""

    __slots__ = ("_d",)

    def __init__(self, d: Mapping) -> None:
        self._d = d

    def to_dict(self) -> Mapping:
        return self._d

    def _wrap(self, v: Any) -> Any:
        return _AttrView(v) if isinstance(v, Mapping) else v

    def __getattr__(self, name: str) -> Any:
        try:
            return self._wrap(self._d[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._wrap(self._d[name])

    def __contains__(self, name: object) -> bool:
        return name in self._d

    def __iter__(self):  # the keys, like a DictConfig's (check_method_config takes set(cfg.method))
        return iter(self._d)

    def get(self, name: str, default: Any = None) -> Any:
        return self._wrap(self._d[name]) if name in self._d else default
