"""Run directories -> one frame (analysis/collect.py): one row per run, its state, summary and flat config; a
corrupt or cut record marks the run unreadable instead of stopping. The W&B source: test_analysis_collect_wandb.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

from analysis.collect import SOURCE_COLUMNS, collect_runs
from collect_twins import config, write_fixture_twins, write_run


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
