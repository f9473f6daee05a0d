"""What W&B recorded, read back from the offline runs (`wandb leet inspect --json`): a baseline and a class-label
replay final with its fold runs (one sweep cell each, through the sweep expansion), a noisy instance-label run, a
distillation student and a label-transfer student of the replay final. Each holds epoch-stepped metric definitions,
its custom charts, per-class accuracy of every class, the final results in the summary, its artifacts with their
lineage, and the grouping by sweep cell / stage."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from repro.config import load_config
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep
from repro.train import train

# Every test reads the module's W&B-logged runs (seconds to train and log): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow
SMALL = ["data.subset=300", "data.test_subset=100", "optim.epochs=2", "progress=none", "tracker=wandb"]
SWEEP = """
    name: wbtest
    table: 1
    metric: final_test_acc
    seeds: [0]
    common: [split.folds=2, data.subset=300, data.test_subset=100, optim.epochs=2, progress=none, tracker=wandb]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      Ours (Class):
        learn: [method=class_labels]
"""
DIGITS = [str(c) for c in range(10)]


def inspect(run_dir: Path) -> list[dict]:
    """Every record of the run directory's (last) offline W&B run."""
    found = sorted((Path(run_dir) / "wandb").glob("offline-run-*"))
    assert found, f"no offline W&B run under {run_dir}"
    out = subprocess.run(
        [str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--json", str(found[-1])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


class Recorded:
    """One offline run's records, by kind."""

    def __init__(self, rd: RunDir) -> None:
        self.rd = rd
        self.records = inspect(rd.path)
        self.run = next(r["run"] for r in self.records if r["type"] == "run")
        self.metrics = [r["metric"] for r in self.records if r["type"] == "metric"]
        self.history = [r["history"]["item"] for r in self.records if r["type"] == "history"]
        self.summary: dict = {}
        for r in self.records:
            if r["type"] == "summary":
                self.summary.update(r["summary"]["update"])
        self.config: dict = {}
        for r in self.records:
            if r["type"] == "config":
                self.config.update(r["config"]["update"])
        self.artifacts = [r["artifact"] for r in self.records if r["type"] == "artifact"]
        self.files = [f["path"] for r in self.records if r["type"] == "files" for f in r["files"]["files"]]

    def charts(self) -> dict[str, str]:
        """Custom charts: key -> the preset (panelDefId)."""
        prefix = "_wandb.visualize."
        return {
            k[len(prefix) :]: v["panel_config"]["panelDefId"] for k, v in self.config.items() if k.startswith(prefix)
        }

    def history_keys(self) -> set[str]:
        return {k for row in self.history for k in row}

    def logged(self, name: str) -> list[dict]:
        return [a for a in self.artifacts if a["name"] == name and not a.get("use_after_commit")]

    def used(self, name: str) -> list[dict]:
        return [a for a in self.artifacts if a["name"] == name and a.get("use_after_commit")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Recorded]:
    root = tmp_path_factory.mktemp("wandb_runs")
    with pytest.MonkeyPatch.context() as mp:
        wandb_root = tmp_path_factory.mktemp("wandb_dirs")
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_SILENT", "true")
        for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
            mp.setenv(var, str(wandb_root / var.lower()))
        mp.delenv("WANDB_API_KEY", raising=False)
        sweep_file = root / "sweep.yaml"
        sweep_file.write_text(textwrap.dedent(SWEEP))
        planned = expand_sweep(load_sweep(sweep_file), output_root=root)
        dirs: dict[str, RunDir] = {}
        for run in planned:  # in dependency order: the folds before their final
            result = train(load_config(list(run.overrides)))
            dirs[f"{run.row}/{run.stage}/{run.fold}"] = result.run_dir
        teacher = dirs["Baseline/single/None"]
        noisy = [*SMALL, "method=instance_labels", "noise=uniform", "noise.fraction=0.4", "split=noisy"]
        dirs["instance_noisy"] = train(load_config([*noisy, f"output_root={root}"])).run_dir
        dirs["student"] = train(
            load_config(
                [
                    *SMALL,
                    "method=distillation",
                    f"method.teacher={teacher.run_id}",
                    "method.temperature=2",
                    "model=tinycnn",
                    f"output_root={root}",
                ]
            )
        ).run_dir
        final = dirs["Ours (Class)/final/None"]
        dirs["transfer"] = train(
            load_config(
                [
                    *SMALL,
                    "method=transferred_labels",
                    f"method.source={final.run_id}",
                    "method.temperature=1",
                    f"output_root={root}",
                ]
            )
        ).run_dir
        return {name: Recorded(rd) for name, rd in dirs.items()}


def test_every_metric_is_stepped_by_epoch_with_best_and_last_summaries(runs):
    for name, rec in runs.items():
        by_name = {m.get("name") or m.get("glob_name"): m for m in rec.metrics}
        assert "epoch" in by_name, name
        assert by_name["*"]["step_metric"] == "epoch", name
        if "accuracy/val" in rec.history_keys():
            assert by_name["accuracy/val"]["summary"] == {"max": True, "last": True}, name
        assert "max" not in by_name["accuracy/test"]["summary"], name  # never select by test accuracy
        epochs = [row["epoch"] for row in rec.history if "accuracy/test" in row]
        assert epochs == [1, 2], name
        assert {"accuracy/train", "accuracy/test", "loss/train", "optim/lr"} <= rec.history_keys(), name
        assert not any(k in rec.history_keys() for k in ("train_acc", "test_acc", "lr")), name  # grouped by topic


def test_final_results_are_in_the_run_summary(runs):
    for name, rec in runs.items():
        summary = rec.rd.read_summary()
        assert rec.summary["summary/final_test_acc"] == pytest.approx(summary["final_test_acc"]), name
        assert not any(k.startswith("summary/") for row in rec.history for k in row), name  # not a history row


def test_every_class_has_its_own_per_class_accuracy_keys_and_chart(runs):
    for name, rec in runs.items():
        keys = rec.history_keys()
        assert {f"test_acc_class/{c}" for c in DIGITS} <= keys, name
        assert rec.charts()["charts/test_acc_per_class"] == "wandb/lineseries/v0", name
        has_meta = rec.rd.read_config()["split"]["full_train"] is False
        assert ({f"meta_acc_class/{c}" for c in DIGITS} <= keys) == has_meta, name
        assert ("charts/meta_acc_per_class" in rec.charts()) == has_meta, name
    assert "charts/meta_acc_per_class" in runs["Baseline/single/None"].charts()  # the baseline too


def test_learned_label_runs_chart_their_labels_and_log_their_figures(runs):
    fold = runs["Ours (Class)/fold/0"]
    assert "charts/class_target_prob" in fold.charts()
    assert any(f.startswith("media/images/figures/figure2") for f in fold.files)
    noisy = runs["instance_noisy"]
    assert {"charts/noise_correction", "charts/tracked_instance_labels"} <= set(noisy.charts())
    assert {"noise/noisy_top1_corrected", "noise/label_accuracy_top1"} <= noisy.history_keys()
    assert any(f.startswith("media/images/figures/figure4") for f in noisy.files)
    table = next(f for f in noisy.files if "tracked_instance_labels_table" in f)
    rows = json.loads((next(noisy.rd.path.glob("wandb/offline-run-*")) / "files" / table).read_text())
    keys = {row[rows["columns"].index("lineKey")] for row in rows["data"]}
    assert any(" given " in k for k in keys) and any(" true " in k for k in keys)  # given and true in one chart
    assert "charts/noise_correction" not in runs["Baseline/single/None"].charts()
    final = runs["Ours (Class)/final/None"]  # the run the tables report charts the labels it replays
    assert {"charts/class_target_prob", "charts/replayed_labels"} <= set(final.charts())


def test_label_runs_log_their_trajectory_and_the_final_uses_its_folds(runs):
    final = runs["Ours (Class)/final/None"]
    for fold in (runs["Ours (Class)/fold/0"], runs["Ours (Class)/fold/1"]):
        name = f"labels-{fold.rd.run_id}"
        (logged,) = fold.logged(name)
        assert logged["type"] == "label-trajectory"
        assert json.loads(logged["metadata"])["kind"] == "class"
        (used,) = final.used(name)
        assert used["digest"] == logged["digest"]  # the same files: W&B joins them on sync (fold -> final)
    assert runs["instance_noisy"].logged(f"labels-{runs['instance_noisy'].rd.run_id}")
    assert not runs["Baseline/single/None"].logged(f"labels-{runs['Baseline/single/None'].rd.run_id}")


def test_a_label_transfer_from_a_replay_final_uses_its_fold_runs_trajectories(runs):
    student = runs["transfer"]
    for fold in (runs["Ours (Class)/fold/0"], runs["Ours (Class)/fold/1"]):
        name = f"labels-{fold.rd.run_id}"
        (used,) = student.used(name)
        assert used["digest"] == fold.logged(name)[0]["digest"]


def test_the_student_uses_its_teachers_model(runs):
    teacher, student = runs["Baseline/single/None"], runs["student"]
    name = f"model-{teacher.rd.run_id}"
    (logged,) = teacher.logged(name)
    (used,) = student.used(name)
    assert logged["type"] == "model" and used["digest"] == logged["digest"]


def test_group_is_the_sweep_cell_and_job_type_the_stage(runs):
    fold, final = runs["Ours (Class)/fold/0"], runs["Ours (Class)/final/None"]
    assert fold.run["run_group"] == final.run["run_group"] == "wbtest | Ours (Class) | Digits"
    assert (fold.run["job_type"], final.run["job_type"]) == ("fold", "final")
    assert runs["Baseline/single/None"].run["job_type"] == "single"
    assert {
        "method:replay",
        "data:digits",
        "model:smallcnn",
        "noise:none",
        "sweep:wbtest",
        "row:Ours (Class)",
        "column:Digits",
    } <= set(final.run["tags"])
    plain = runs["instance_noisy"]
    assert plain.run["job_type"] == "train" and plain.run["run_group"]
    assert "noise:uniform-0.4" in plain.run["tags"]
    for name, rec in runs.items():
        assert rec.run["display_name"] == rec.rd.run_id, name
        assert rec.run["run_id"] == (rec.rd.path / "wandb_id.txt").read_text().strip() != rec.rd.run_id, name
        provenance = rec.run["config"]["update"]["provenance"]
        assert {"commit", "dirty", "versions", "device"} <= set(provenance), name


def test_repro_figures_logs_the_papers_figures_in_an_analysis_run(runs, tmp_path):
    from repro.cli import main

    root = runs["Baseline/single/None"].rd.path.parents[1]
    figures = ["figures", "--runs", str(root), "--sweeps-dir", str(root), "--out", str(tmp_path)]  # table 1: sweep.yaml
    assert main([*figures, "--wandb", "me/soft-labels"]) == 0
    assert (tmp_path / "figure2.png").exists()
    (found,) = (tmp_path / "wandb").glob("offline-run-*")
    rec = inspect(found.parent.parent)
    run = next(r["run"] for r in rec if r["type"] == "run")
    assert run["job_type"] == "analysis" and run["project"] == "soft-labels"
    files = [f["path"] for r in rec if r["type"] == "files" for f in r["files"]["files"]]
    assert any(f.startswith("media/images/figures/figure2") for f in files)
