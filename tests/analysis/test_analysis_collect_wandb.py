"""The W&B API -> the same frame as the run directories (analysis/wandb_source.py), checked against recorded API
answers (tests/fixtures/analysis_wandb_runs.json, collect_twins.py)."""

from __future__ import annotations

import pandas as pd
import pytest

import analysis.sweeps as table_sweeps
import analysis.wandb_source as wandb_source
from analysis.collect import SOURCE_COLUMNS, collect_runs
from analysis.wandb_source import collect_wandb
from collect_twins import RecordedApi, RecordedRun, write_fixture_twins
from repro.cli import main
from repro.errors import UserError
from repro.sweep.spec.model import PlannedRun


def test_wandb_source_gives_the_same_frame_as_the_run_directories(tmp_path):
    write_fixture_twins(tmp_path)
    api = RecordedApi()
    from_wandb = collect_wandb("me/soft-labels-repro", api=api)
    from_dirs = collect_runs(tmp_path)
    assert api.asked == ["me/soft-labels-repro"]
    assert all(run.scanned for run in api.runs_by_project["me/soft-labels-repro"])
    pd.testing.assert_frame_equal(from_wandb.drop(columns=SOURCE_COLUMNS), from_dirs.drop(columns=SOURCE_COLUMNS))
    assert set(from_wandb["state"]) == {"done", "running", "failed"}
    assert from_wandb["path"].str.startswith("wandb:me/soft-labels-repro/").all()


def test_wandb_summary_falls_back_to_the_run_summary_when_history_lacks_it(tmp_path):
    api = RecordedApi()
    done = api.runs_by_project["me/soft-labels-repro"][0]
    done._history = done._history[:2]  # no summary row in the history
    frame = collect_wandb("me/soft-labels-repro", api=api).set_index("run_id")
    assert frame.loc[done.name, "state"] == "done"
    assert frame.loc[done.name, "final_test_acc"] == 0.91


def test_attempts_of_one_run_count_once_and_a_done_one_wins(tmp_path):
    api = RecordedApi()
    runs = api.runs_by_project["me/soft-labels-repro"]
    done = runs[0]
    retry = RecordedRun(
        {
            "name": done.name,
            "id": done.id + "-retry",
            "state": "crashed",
            "config": done.config,
            "summary": {},
            "history": done._history[:1],
        }
    )
    runs.insert(0, retry)  # a newer attempt that did not finish
    frame = collect_wandb("me/soft-labels-repro", api=api)
    assert list(frame["run_id"]).count(done.name) == 1
    assert frame.set_index("run_id").loc[done.name, "state"] == "done"


def test_unreachable_wandb_project_is_a_user_error():
    with pytest.raises(UserError, match="Could not read the W&B project 'me/other'"):
        collect_wandb("me/other", api=RecordedApi())

    class Offline:
        def runs(self, path, **kwargs):
            raise ConnectionError("Max retries exceeded with url: /graphql")

    with pytest.raises(UserError, match="ConnectionError"):
        collect_wandb("me/soft-labels-repro", api=Offline())


@pytest.mark.parametrize("bad", ["soft-labels-repro", "me/", "a/b/c"])
def test_a_malformed_wandb_path_is_a_user_error(bad):
    with pytest.raises(UserError, match="ENTITY/PROJECT"):
        collect_wandb(bad, api=RecordedApi())


class OneCellSweep:
    """Table 1's Baseline / CIFAR100/ResNet18 cell, made of two of the recorded runs (seeds 0 and 1)."""

    metric, rows, columns = "final_test_acc", ["Baseline"], ["CIFAR100/ResNet18"]

    def expand(self, *, output_root, scale=None):
        ids = ["digits-smallcnn-baseline-aaaaaaaaaa", "digits-smallcnn-instance_labels-cccccccccc"]
        return [
            PlannedRun(rid, "Baseline", "CIFAR100/ResNet18", seed, "single", None, (), {"data": {"name": "digits"}})
            for seed, rid in enumerate(ids)
        ]


def test_repro_tables_reads_runs_from_wandb_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(wandb_source, "_default_api", RecordedApi)
    monkeypatch.setattr(table_sweeps, "load_specs", lambda sweeps_dir, tables=None: {1: OneCellSweep()})
    out = tmp_path / "ours"
    assert main(["tables", "--wandb", "me/soft-labels-repro", "--out", str(out)]) == 0
    md = (out / "table1.md").read_text()
    assert "Runs: W&B project me/soft-labels-repro." in md
    assert "| Baseline | 91.00 (n=1 of 2; at best val epoch: 91.00) | 77.1 ± 0.3 | +13.90 |" in md
    assert "- `digits-smallcnn-instance_labels-cccccccccc` (Baseline, CIFAR100/ResNet18, seed 1): failed" in md
    assert main(["tables", "--wandb", "me/missing", "--out", str(out)]) == 2
    assert "Could not read the W&B project 'me/missing'" in capsys.readouterr().err
