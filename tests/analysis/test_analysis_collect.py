"""Run directories -> one frame (analysis/collect.py), and the W&B API -> the same frame (analysis/wandb_source.py),
checked against recorded API answers (tests/fixtures/analysis_wandb_runs.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import analysis.sweeps as table_sweeps
import analysis.wandb_source as wandb_source
from analysis.collect import SOURCE_COLUMNS, collect_runs
from analysis.wandb_source import collect_wandb
from repo_paths import TESTS
from repro.cli import main
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun

FIXTURE = TESTS / "fixtures" / "analysis_wandb_runs.json"


def write_run(
    root: Path,
    run_id: str,
    config: dict | None,
    *,
    state: str | None,
    epoch: int = 0,
    summary: dict | None = None,
    message: str = "",
    metrics: list[dict] | None = None,
) -> RunDir:
    rd = RunDir(root / "runs" / run_id)
    rd.path.mkdir(parents=True)
    if config is not None:
        rd.write_config(config)
    if state is not None:
        rd.write_status(state, epoch=epoch, message=message)
    if metrics:
        rd.write_metrics(metrics)
    if summary is not None:
        rd.write_summary(summary)
    return rd


def config(
    method: str,
    labels: str,
    *,
    seed: int,
    fold: int = 0,
    epochs: int = 2,
    noise: float = 0.0,
    stage: str = "single",
    extra_method: dict | None = None,
    folds: int = 5,
    meta: float = 0.2,
    sweep: str = "table1",
) -> dict:
    return {
        "data": {"name": "digits", "root": None, "subset": None, "batch_size": 64},
        "model": {"name": "smallcnn"},
        "method": {"name": method, "labels": labels, **(extra_method or {})},
        "noise": {"kind": "uniform" if noise else "none", "fraction": noise, "seed": 0},
        "split": {"fold": fold, "folds": folds, "meta_fraction": meta, "full_train": False},
        "optim": {"lr": 0.05, "epochs": epochs, "milestones": [0.5, 0.75]},
        "seed": seed,
        "output_root": "outputs",
        "tracker": {"kind": "wandb", "mode": "online", "project": "soft-labels-repro", "entity": "me", "tags": []},
        "sweep": {"name": sweep, "stage": stage},
    }


def write_fixture_twins(root: Path) -> None:
    """The run directories the recorded W&B runs came from, written by hand in the run-directory format."""
    write_run(
        root,
        "digits-smallcnn-baseline-aaaaaaaaaa",
        config("baseline", "onehot", seed=0),
        state="done",
        epoch=2,
        summary={
            "final_test_acc": 0.91,
            "final_train_acc": 0.88,
            "epochs": 2,
            "seconds": 4.25,
            "best_val_epoch": 2,
            "best_val_acc": 0.9,
            "test_acc_at_best_val": 0.91,
            "final_val_acc": 0.9,
            "num_train": 1150,
            "num_meta": 287,
        },
    )
    write_run(
        root,
        "digits-smallcnn-class_labels-bbbbbbbbbb",
        config(
            "class_labels",
            "class",
            seed=1,
            fold=1,
            epochs=3,
            stage="fold",
            extra_method={"init_target_prob": 0.9, "label_lr": 0.3},
        ),
        state="running",
        epoch=1,
    )
    write_run(
        root,
        "digits-smallcnn-instance_labels-cccccccccc",
        config(
            "instance_labels",
            "instance",
            seed=2,
            epochs=3,
            noise=0.4,
            folds=1,
            meta=0.02,
            sweep="table6",
            extra_method={"init_target_prob": 0.9, "label_lr": 50.0},
        ),
        state="failed",
        epoch=2,
        message="the training loss became nan at epoch 3.",
    )


class RecordedRun:
    """A wandb.apis.public.Run stand-in answering from a recorded JSON object."""

    def __init__(self, rec: dict):
        self.name, self.id, self.state = rec["name"], rec["id"], rec["state"]
        self.config = {k: v for k, v in rec["config"].items() if not k.startswith("_")}  # as the API unwraps it
        self.summary = rec["summary"]
        self._history = rec["history"]
        self.scanned = False

    def scan_history(self):
        self.scanned = True
        return iter(self._history)

    def history(self, *args, **kwargs):  # the sampled history must not be used
        raise AssertionError("collect_wandb must read the full history with scan_history()")


class RecordedApi:
    def __init__(self, path: Path = FIXTURE):
        self.runs_by_project = {"me/soft-labels-repro": [RecordedRun(r) for r in json.loads(path.read_text())["runs"]]}
        self.asked: list[str] = []

    def runs(self, path: str, **kwargs):
        self.asked.append(path)
        if path not in self.runs_by_project:
            raise ValueError(f"Could not find project {path}")
        return iter(self.runs_by_project[path])


# ------------------------------------------------------------------------------------------------ run directories


def test_collect_runs_one_row_per_run_with_state_summary_and_flat_config(tmp_path):
    write_fixture_twins(tmp_path)
    write_run(
        tmp_path,
        "digits-smallcnn-baseline-dddddddddd",
        config("baseline", "onehot", seed=3),
        state="interrupted",
        epoch=1,
        message="received signal 15",
    )
    write_run(tmp_path, "digits-smallcnn-baseline-eeeeeeeeee", config("baseline", "onehot", seed=4), state=None)
    (tmp_path / "runs" / "not-a-run.txt").write_text("stray file")
    frame = collect_runs(tmp_path)

    assert list(frame["run_id"]) == sorted(frame["run_id"]) and len(frame) == 5
    by_id = frame.set_index("run_id")
    assert by_id.loc["digits-smallcnn-baseline-aaaaaaaaaa", "state"] == "done"
    assert by_id.loc["digits-smallcnn-class_labels-bbbbbbbbbb", "state"] == "running"
    assert by_id.loc["digits-smallcnn-instance_labels-cccccccccc", "state"] == "failed"
    assert by_id.loc["digits-smallcnn-baseline-dddddddddd", "state"] == "interrupted"
    assert by_id.loc["digits-smallcnn-baseline-eeeeeeeeee", "state"] == "missing-status"
    done = by_id.loc["digits-smallcnn-baseline-aaaaaaaaaa"]
    assert done["final_test_acc"] == 0.91 and done["test_acc_at_best_val"] == 0.91 and done["epochs_done"] == 2
    assert math.isnan(by_id.loc["digits-smallcnn-class_labels-bbbbbbbbbb", "final_test_acc"])
    assert by_id.loc["digits-smallcnn-class_labels-bbbbbbbbbb", "epochs_done"] == 1
    assert by_id.loc["digits-smallcnn-instance_labels-cccccccccc", "message"].startswith("the training loss")
    assert by_id.loc["digits-smallcnn-instance_labels-cccccccccc", "noise.fraction"] == 0.4
    assert by_id.loc["digits-smallcnn-class_labels-bbbbbbbbbb", "split.fold"] == 1
    assert by_id.loc["digits-smallcnn-class_labels-bbbbbbbbbb", "method.name"] == "class_labels"
    assert by_id.loc["digits-smallcnn-baseline-aaaaaaaaaa", "optim.milestones"] == (0.5, 0.75)
    assert list(by_id["seed"]) == [0, 3, 4, 1, 2]
    assert Path(done["path"]) == tmp_path / "runs" / "digits-smallcnn-baseline-aaaaaaaaaa"
    # column order: identity, summary fields, config fields, source-specific columns
    cols = list(frame.columns)
    assert cols[:3] == ["run_id", "state", "epochs_done"] and cols[-2:] == SOURCE_COLUMNS
    assert cols.index("final_test_acc") < cols.index("data.name")


def test_a_corrupt_record_marks_the_run_unreadable_instead_of_stopping(tmp_path):
    write_fixture_twins(tmp_path)
    rd = write_run(
        tmp_path, "digits-smallcnn-baseline-ffffffffff", config("baseline", "onehot", seed=5), state="running"
    )
    rd.status_file.write_text("{not json")
    frame = collect_runs(tmp_path).set_index("run_id")
    assert frame.loc["digits-smallcnn-baseline-ffffffffff", "state"] == "unreadable"
    assert "JSONDecodeError" in frame.loc["digits-smallcnn-baseline-ffffffffff", "message"]
    assert frame.loc["digits-smallcnn-baseline-aaaaaaaaaa", "state"] == "done"


def test_a_metrics_log_cut_short_marks_the_run_unreadable_without_reading_its_history(tmp_path, monkeypatch):
    """Only the log's end is read: a last line cut mid-way, or a log cut after a whole line (fewer epochs than the
    summary counts), is damage; a last line longer than the read window is read whole; the history before it is
    never parsed (json.loads sees one line of the log at a time)."""
    import analysis.collect as collect

    rows = [{"epoch": e, "test_acc": 0.5, "val_per_class_acc": [0.25] * 20000} for e in (1, 2, 3)]  # ~120 KB a line
    cuts = {"aaaaaaaaaa": lambda text: text, "bbbbbbbbbb": lambda text: text[:-20]}  # whole; cut mid-line
    cuts["cccccccccc"] = lambda text: b"".join(text.splitlines(keepends=True)[:2])  # cut after epoch 2's line
    for suffix, cut in cuts.items():
        summary = {"final_test_acc": 0.5, "epochs": 3}
        cfg = config("baseline", "onehot", seed=0)
        rd = write_run(tmp_path, f"digits-smallcnn-baseline-{suffix}", cfg, state="done", summary=summary, metrics=rows)
        rd.metrics_file.write_bytes(cut(rd.metrics_file.read_bytes()))
    parsed: list[int] = []
    loads = collect.json.loads
    monkeypatch.setattr(collect.json, "loads", lambda text, *a, **k: parsed.append(len(text)) or loads(text, *a, **k))
    frame = collect_runs(tmp_path).set_index("run_id")
    monkeypatch.undo()
    assert frame.loc["digits-smallcnn-baseline-aaaaaaaaaa", "state"] == "done"
    for suffix, problem in (
        ("bbbbbbbbbb", "in the middle of a line"),
        ("cccccccccc", "ends at epoch 2, but the summary counts 3"),
    ):
        assert frame.loc[f"digits-smallcnn-baseline-{suffix}", "state"] == "unreadable"
        assert problem in frame.loc[f"digits-smallcnn-baseline-{suffix}", "message"]
    assert max(parsed) <= len(json.dumps(rows[0], sort_keys=True)) + 1  # never more than one row of a log at once


def test_collect_runs_of_a_missing_or_empty_directory_is_an_empty_frame(tmp_path):
    assert collect_runs(tmp_path / "nowhere").empty
    (tmp_path / "runs").mkdir()
    assert collect_runs(tmp_path).empty


# ------------------------------------------------------------------------------------------------ W&B


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
