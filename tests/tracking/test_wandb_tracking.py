"""The W&B tracker around the page (tests/tracking/test_wandb_page.py): each attempt's own W&B id, the legacy `dryrun`
mode, failures that never stop training, and the saved workspace's specification (`repro wandb workspace --print`)."""

from __future__ import annotations

import json
import re
import warnings

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from repro.tracking.wandb_run import attempt_id, wandb_mode
from repro.train import Interrupted, train

SMALL = ["data.subset=200", "data.test_subset=100", "progress=none", "tracker=wandb"]


def test_an_attempt_id_is_reused_only_when_its_directory_resumes(tmp_path):
    first, resumed = attempt_id(tmp_path, "run-x", resuming=False)
    assert not resumed and first.startswith("run-x-") and first != "run-x"
    assert attempt_id(tmp_path, "run-x", resuming=True) == (first, True)
    retrain, resumed = attempt_id(tmp_path, "run-x", resuming=False)  # a retrain: never the old W&B run
    assert not resumed and retrain != first
    assert (tmp_path / "wandb_id.txt").read_text().strip() == retrain


@pytest.mark.slow
def test_a_resumed_run_continues_its_wandb_run_and_a_fresh_root_starts_another(tmp_path):
    overrides = [*SMALL, "optim.epochs=2"]
    with pytest.raises(Interrupted):
        train(load_config([*overrides, f"output_root={tmp_path / 'a'}"]), stop_after_epochs=1)
    rd = RunDir.for_config(to_container(load_config([*overrides, f"output_root={tmp_path / 'a'}"])))
    first = (rd.path / "wandb_id.txt").read_text().strip()
    train(load_config([*overrides, f"output_root={tmp_path / 'a'}"]))
    assert (rd.path / "wandb_id.txt").read_text().strip() == first
    offline = list((rd.path / "wandb").glob("offline-run-*"))  # one per process (W&B suffixes a same-second twin)
    assert len(offline) == 2 and all(first in p.name for p in offline)
    other = train(load_config([*overrides, f"output_root={tmp_path / 'b'}"])).run_dir
    assert other.run_id == rd.run_id and (other.path / "wandb_id.txt").read_text().strip() != first


def test_dryrun_is_the_legacy_name_of_offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    cfg = load_config(["tracker=wandb"])
    assert cfg.tracker.mode == "dryrun" and wandb_mode(cfg.tracker) == "offline"
    assert wandb_mode({"mode": "run"}) == "online"


def test_a_failing_log_never_stops_training(tmp_path, monkeypatch):
    import wandb.sdk.wandb_run as sdk_run

    def broken(self, *args, **kwargs):
        raise RuntimeError("simulated W&B failure")

    monkeypatch.setattr(sdk_run.Run, "log", broken)
    with pytest.warns(UserWarning, match="W&B log failed"):
        result = train(load_config([*SMALL, "optim.epochs=1", f"output_root={tmp_path}"]))
    assert result.run_dir.is_done()


@pytest.mark.slow
def test_a_failing_chart_or_artifact_warns_and_the_rest_is_logged(tmp_path, monkeypatch):
    import repro.tracking.wandb_end as end

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(end, "end_charts", broken)
    monkeypatch.setattr(end, "model_artifact", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(load_config([*SMALL, "optim.epochs=1", "method=class_labels", f"output_root={tmp_path}"]))
    assert result.run_dir.is_done()
    messages = " ".join(str(w.message) for w in caught)
    assert "W&B charts was not logged" in messages and "W&B model artifact was not logged" in messages
    from test_wandb_page import Recorded

    rec = Recorded(result.run_dir)
    assert "summary/final_test_acc" in rec.summary  # the summary and the label artifact still made it
    assert rec.logged(f"labels-{result.run_dir.run_id}") and "charts/test_acc_per_class" not in rec.charts()


def test_the_workspace_specification_has_its_sections_grouped_by_method(tmp_path):
    out = tmp_path / "workspace.json"
    assert main(["wandb", "workspace", "me/soft-labels", "--print", "--out", str(out)]) == 0
    spec = json.loads(out.read_text())
    assert (spec["entity"], spec["project"]) == ("me", "soft-labels")
    sections = spec["spec"]["section"]["panelBankConfig"]["sections"]
    by_name = {s["name"]: s for s in sections}
    assert {"Accuracy", "Label trajectories", "Per-class accuracy", "Noise correction", "Figures"} <= set(by_name)
    grouping = spec["spec"]["section"]["runSets"][0]["grouping"]
    assert grouping == [{"name": "method.value.name", "section": "config"}]
    panels = [p for s in sections for p in s["panels"]]
    lines = [p["config"] for p in panels if p["viewType"] == "Run History Line Plot"]
    assert lines and all(c["xAxis"] == "epoch" for c in lines)
    metrics = {m for c in lines for m in c.get("metrics", [])}
    assert {"accuracy/val", "accuracy/test", "noise/noisy_top1_corrected", "noise/label_accuracy_top1"} <= metrics
    regexes = {c["metricRegex"] for c in lines if c.get("useMetricRegex")}
    assert any(re.fullmatch(r, "meta_acc_class/3") for r in regexes)
    assert any(re.fullmatch(r, "labels/class_target_prob/3") for r in regexes)
    charts = [p["config"] for p in panels if p["viewType"] == "Vega2"]
    assert all(c["panelDefId"] == "wandb/lineseries/v0" for c in charts) and len(charts) >= 3


def test_the_workspace_refuses_a_project_without_an_entity(capsys):
    assert main(["wandb", "workspace", "justaname", "--print"]) == 2
    assert "ENTITY/PROJECT" in capsys.readouterr().err


@pytest.mark.slow
def test_log_checkpoint_uploads_the_final_checkpoint(tmp_path):
    from test_wandb_page import Recorded

    overrides = [*SMALL, "optim.epochs=1", "tracker.log_checkpoint=true", f"output_root={tmp_path}"]
    rd = train(load_config(overrides)).run_dir
    (model,) = Recorded(rd).logged(f"model-{rd.run_id}")
    (entry,) = model["manifest"]["contents"]
    assert entry["path"] == "checkpoint.pt" and not entry.get("ref")  # the file itself, not a reference
    assert int(entry["size"]) == rd.checkpoint_file.stat().st_size


def test_a_hundred_classes_get_a_table_a_heatmap_and_figure2s_classes(tmp_path):
    import numpy as np
    import wandb

    from repro.labels.registry import label_kind
    from repro.labels.trajectory import write_class_trajectory, write_manifest
    from repro.tracking.wandb_charts import end_charts, end_images
    from repro.tracking.wandb_page import PageContext, epoch_keys

    c, epochs = 100, 3
    rd = RunDir(tmp_path / "runs" / "cifar100-resnet18-class_labels-x")
    target = np.full((epochs, c), 0.5)
    target[:, 50:] = 0.6
    target[:, 17], target[:, 3] = 0.1, 0.9  # the lowest and the highest
    write_manifest(rd.labels_dir, kind="class", num_samples=10, num_classes=c, topk=None)
    write_class_trajectory(rd.labels_dir, target)
    names = [f"class_{i}" for i in range(c)]
    ctx = PageContext(class_names=names, run_dir=rd, panels=label_kind("class").panels)
    history = [
        {"epoch": e, "val_per_class_acc": [0.01 * (i % 50) for i in range(c)], "test_per_class_acc": [0.5] * c}
        for e in range(1, epochs + 1)
    ]
    keys = epoch_keys(history[0], ctx, 1)
    assert len([k for k in keys if k.startswith("meta_acc_class/")]) == 3  # not 100 panels
    charts = end_charts(wandb, history, ctx)
    table = charts["tables/meta_acc_per_class"]
    assert table.columns == ["epoch", *names] and len(table.data) == epochs
    drawn = {row[1] for row in charts["charts/meta_acc_per_class"].table.data}
    order = np.argsort(target.mean(axis=0), kind="stable")
    assert drawn == {names[int(order[0])], names[int(order[c // 2])], names[int(order[-1])]}  # Figure 2's picks
    assert {row[1] for row in charts["charts/class_target_prob"].table.data} == drawn
    images = end_images(PageContext(class_names=names), history, tmp_path / "figures")
    assert set(images) == {"figures/meta_acc_per_class_heatmap", "figures/test_acc_per_class_heatmap"}
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in images.values())


@pytest.mark.slow
def test_the_console_is_captured_for_the_logs_tab(tmp_path):
    """`repro train` as a user runs it, in its own process: the test process's stdout has been swapped by pytest's
    capture and by earlier tests' W&B runs, which is not what a user's terminal looks like."""
    import os
    import subprocess
    import sys

    from test_wandb_page import inspect

    overrides = ["data.subset=200", "data.test_subset=100", "optim.epochs=1", "progress=plain", "tracker=wandb"]
    repo = REPO
    env = {
        **{k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"},  # its own W&B service, as a job has
        "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "repro.cli", "train", *overrides, f"output_root={tmp_path}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    rd = RunDir(next((tmp_path / "runs").iterdir()))
    lines = "".join(r["output_raw"]["line"] for r in inspect(rd.path) if r["type"] == "output_raw")
    assert rd.run_id in lines  # the plain progress line of the epoch
