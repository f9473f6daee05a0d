"""A table's sweep planned as its dry run plans it (nothing done, nothing trained), for `repro plan` to price: its
expansion kept between commands in the plan cache, so that a second `repro plan` composes no config again (the
expansion is most of what the command costs: Hydra's compositions and the tuning grids).

The cache is an output root of its own, where nothing ever trains: `$REPRO_PLAN_CACHE`, else `$XDG_CACHE_HOME/repro/
plan`, else `~/.cache/repro/plan`. Its entries are the sweep's expansion cache's (repro/sweep/expansion_cache.py): one
per sweep and way of expanding it, read only where everything that decides the expansion is what it was (the sweep
files, the code and config tree, the scale, the versions), written atomically; a cache that cannot be written keeps
nothing and the sweep is expanded as before."""

from __future__ import annotations

import os
from pathlib import Path

from repro.sweep.ask_stages import decide
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.expansion_cache import cached_expansion
from repro.sweep.plan import Plan, make_plan
from repro.sweep.spec.model import Scale, SweepSpec


def plan_cache() -> Path:
    """Where `repro plan` keeps the expansions of the sweeps it prices."""
    if os.environ.get("REPRO_PLAN_CACHE"):
        return Path(os.environ["REPRO_PLAN_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "repro" / "plan"


def planned_sweep(spec: SweepSpec, scale: Scale | None = None) -> Plan:
    """The sweep planned into the plan cache as `repro sweep --dry-run` plans it (the stages asked to decide, nothing
    recorded), its expansion read from there where one was kept for it, else made and kept."""
    root = plan_cache()
    runs = cached_expansion(
        spec,
        lambda: expand_sweep(spec, output_root=root, scale=scale),
        output_root=root,
        scale=scale,
        extra_overrides=(),
    )
    plan = make_plan(spec, runs, root)
    plan.scale = scale
    decide(plan)
    return plan
