"""Make a planned run: resolve its config once (compose.py) and validate it once. Shared by expand.py, tune.py,
teachers.py and the preflight, which import it (it imports none of them).

Takes a run's overrides (overrides.py) or a config derived from another run's; returns its `PlannedRun`. The one
validation of a planned run is here, through the public validation of a run's config
(`repro.config.validate_config`); the job that trains it checks only what can differ on its node."""

from __future__ import annotations

from repro import config as run_config
from repro.errors import UserError
from repro.runs.rundir import run_id
from repro.sweep.expand.compose import FastComposer
from repro.sweep.expand.overrides import dedupe, parse_override, quote_value
from repro.sweep.protocol.cell import Override
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
        run_config.validate_config(config)
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
