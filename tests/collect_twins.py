"""Run directories with known records, and the recorded W&B answers of their twins
(tests/fixtures/analysis_wandb_runs.json: the runs `write_fixture_twins` writes, as the W&B API returns them), for the
tests of analysis/collect.py and analysis/wandb_source.py: the same runs read from either source give one frame."""

from __future__ import annotations

import json
from pathlib import Path

from repo_paths import TESTS
from repro.runs.rundir import RunDir

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
