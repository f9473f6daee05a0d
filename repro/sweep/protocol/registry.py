"""The sweep protocol's stages by their key in a sweep file (repro/sweep/protocol/base.py: what a stage provides).
The sweep asks every registered stage in this order: the sweep file's reading (repro/sweep/sweep_file.py: the
top-level keys it allows), the expansion (repro/sweep/expand/expand.py: the runs a stage adds), `repro sweep status`
(repro/sweep/status.py), the decisions on a plan and the local rounds (repro/sweep/run_local.py), `--dry-run`
(repro/sweep/dry_run.py) and a run's start (repro/sweep/start.py).

Adding a stage is one folder under repro/sweep/stages/ with its `Stage` subclass and one line in that package's
`BUILT_IN` (or
`register_stage`, for a stage defined outside the package). The classes are imported when first asked for, as the
methods' are (repro/methods/registry.py): a stage is built on the sweep's core (the expansion, the plan, the budget,
the executors), which asks for it here, so the core never imports a stage (tests/project/test_layers.py)."""

from __future__ import annotations

import importlib
from dataclasses import replace

from repro.sweep.protocol.base import Stage
from repro.sweep.spec.model import Scale, SweepSpec

# The plug-in folder: its __init__ lists the stages that come with the suite (`BUILT_IN`, in order), so no module
# outside it names a particular stage; importing the folder imports none of them.
PLUG_INS = "repro.sweep.stages"
# key -> "module:Class" (imported when first asked for), or the class `register_stage` was given, in the order the
# sweep asks them (the folder's `BUILT_IN` says why that order).
STAGES: dict[str, str | type[Stage]] = dict(importlib.import_module(PLUG_INS).BUILT_IN)


def stage_class(key: str) -> type[Stage]:
    target = STAGES[key]
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def stages() -> list[Stage]:
    """Every registered stage, in registry order."""
    return [stage_class(key)() for key in STAGES]


def referenced_scale(scale: Scale | None) -> Scale | None:
    """The scale another sweep's cell is expanded at from this sweep (a student's teacher): the same, less the
    stage options that stay with the table they were given for (`StageFlag.referenced` False: `--until-decided`)."""
    if scale is None or not scale.stage_options:
        return scale
    going = {flag.name for stage in stages() for flag in stage.flags if flag.referenced}
    return replace(scale, stage_options=tuple((k, v) for k, v in scale.stage_options if k in going))


def flags_given(scale: Scale | None) -> list[str]:
    """The stages' `repro sweep` options the scale holds, as they are typed (`--tune-strategy halving`,
    `--until-decided`), in registry order: what a table or the ledger says its sweep was expanded with. Options no
    one types (`repro demo --quick`'s `tune_seeds`) are left out: no command line has them."""
    found = []
    for flag in (flag for stage in stages() for flag in stage.flags if flag.typed and not flag.decides):
        value = scale.option(flag.name) if scale is not None else None
        if value is None or value is False:
            continue
        found.append(flag.flag if value is True else f"{flag.flag} {value}")
    return found


def follows_seeds_run(spec: SweepSpec, scale: Scale | None) -> bool:
    """Whether a registered stage's plan of `spec` depends on the seeds the sweep ran (`Stage.selection`)."""
    return any(stage.selection(spec, scale).seeds_run for stage in stages())


def kept_rows(spec: SweepSpec, scale: Scale | None) -> set[str]:
    """The rows a selection of rows (`--rows`) keeps beside those asked for (`Stage.selection`: the gate's)."""
    return {row for stage in stages() for row in stage.selection(spec, scale).rows}


def register_stage(cls: type[Stage]) -> type[Stage]:
    """Make the sweep ask `cls` too (its `key` a new top-level key of sweep files). The process that plans or
    trains must import its module."""
    known = STAGES.get(cls.key)
    if known is not None and known is not cls:
        raise ValueError(f"a stage with key {cls.key!r} is registered already ({known})")
    STAGES[cls.key] = cls
    return cls


def unregister_stage(key: str) -> None:
    """Forget a stage `register_stage` added (tests)."""
    if not isinstance(STAGES.get(key), str):
        STAGES.pop(key, None)
