"""benchmarks/variance_sources.py measures what a seed holds fixed by planning the same table under other overrides:
a data draw or a width at its default must keep the demo's run ids (its runs are read, not trained again), and any
other value must plan runs of their own."""

from __future__ import annotations

import pytest

from benchmarks import variance_sources
from repro.sweep.expand.expand import expand_sweep


@pytest.mark.slow
def test_a_source_at_its_default_keeps_the_run_ids_and_another_value_plans_its_own(tmp_path):
    spec = variance_sources.table_spec(seeds=1)
    sources = variance_sources.sources(draws=[42], widths=[32, 64])
    ids = {
        label: {run.run_id for run in expand_sweep(spec, output_root=tmp_path, extra_overrides=overrides)}
        for label, overrides in sources.items()
    }
    plain = {
        run.run_id for run in expand_sweep(spec, output_root=tmp_path, extra_overrides=variance_sources.RUN_OVERRIDES)
    }
    assert ids["draw 42"] == ids["width 32"] == plain
    assert ids["width 64"].isdisjoint(plain)
    assert len(ids["width 64"]) == len(plain)
