"""Where a stage defined outside this package found `register_stage` before the registry moved to
repro/sweep/protocol/registry.py: kept so that such a stage still registers. Nothing in this repository imports it
but analysis/sweeps.py, until it imports the registry where it now stands."""

from repro.sweep.protocol.registry import (  # noqa: F401
    STAGES,
    follows_seeds_run,
    referenced_scale,
    register_stage,
    stage_class,
    stages,
    unregister_stage,
)
