"""`repro demo` plans each of its sweep files once: its sweeps expand them, and its tables, figures and ledger read
the results indexes of those very runs (repro/sweep/index.py) instead of expanding the files again. The runs'
training is fabricated (each planned run written done), so the planning path is what runs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import repro.sweep.index as results_index
import repro.sweep.run_local as run_local
import repro.sweep.sweep_plan as sweep_plan
from analysis import demo
from paper_runs import write_run
from repo_paths import EVERY_SWEEP
from repro.cli import main


@pytest.mark.slow
@pytest.mark.xdist_group(EVERY_SWEEP)
def test_the_quick_demo_expands_each_sweep_file_once(tmp_path, monkeypatch, capsys):
    root = tmp_path / "demo"
    expanded: Counter[str] = Counter()

    def counted(expand: Any) -> Any:
        def expand_counted(spec: Any, **kwargs: Any) -> Any:
            expanded[Path(spec.path).name] += 1
            return expand(spec, **kwargs)

        return expand_counted

    def train(runs: Any, **kwargs: Any) -> tuple[list[str], list[str]]:  # every run done, nothing trained
        for run in runs:
            write_run(root, run, 50.0)
        return [run.run_id for run in runs], []

    # the two places a command expands a whole sweep file: planning a sweep, and building its results index
    monkeypatch.setattr(sweep_plan, "expand_sweep", counted(sweep_plan.expand_sweep))
    monkeypatch.setattr(results_index, "expand_anew", counted(results_index.expand_anew))
    monkeypatch.setattr(run_local, "run_planned_runs", train)
    main(["demo", "--quick", "--jobs", "1", "--output-root", str(root)])  # 1: figures without records are skipped
    out = capsys.readouterr().out
    specs = demo.demo_specs(demo.demo_size(quick=True))
    assert "== Tables ==" in out and "The paper's claims in these runs" in out
    assert all((root / "tables" / f"table{number}.md").is_file() for number in specs)
    assert expanded == Counter({spec.path.name: 1 for spec in specs.values()})
