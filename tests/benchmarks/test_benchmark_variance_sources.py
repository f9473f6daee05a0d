"""benchmarks/variance_sources.py measures what a seed holds fixed by planning the same table under other overrides:
a data draw or a width at its default must keep the demo's run ids (its runs are read, not trained again), and any
other value must plan runs of their own."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from repo_paths import REPO
from repro.sweep.expand.expand import expand_sweep


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("variance_sources", REPO / "benchmarks" / "variance_sources.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_source_at_its_default_keeps_the_run_ids_and_another_value_plans_its_own(tmp_path):
    bench = _load_benchmark()
    spec = bench.table_spec(seeds=1)
    sources = bench.sources(draws=[42], widths=[32, 64])
    ids = {
        label: {run.run_id for run in expand_sweep(spec, output_root=tmp_path, extra_overrides=overrides)}
        for label, overrides in sources.items()
    }
    plain = {run.run_id for run in expand_sweep(spec, output_root=tmp_path, extra_overrides=bench.RUN_OVERRIDES)}
    assert ids["draw 42"] == ids["width 32"] == plain
    assert ids["width 64"].isdisjoint(plain)
    assert len(ids["width 64"]) == len(plain)
