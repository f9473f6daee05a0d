"""The Recorder protocol (repro/training/protocols.py): every recorder says what it records and when; the recorders
every run has are registered in one place (repro/recorders/), the training loop names none, and the budget asks each
registered one for the images it evaluates, so the out-of-sample and annotator-agreement passes are priced."""

from __future__ import annotations

import importlib
import pkgutil
import typing

import pytest

import repro
import repro.recorders.registry
from presets import CLEAN
from repo_paths import REPO
from repro.config import load_config, to_container
from repro.recorders.registry import RUN_RECORDERS, register_recorder
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import price, run_gpu_hours, run_sizes
from repro.train import epoch_eval_images, last_epoch_eval_images, train
from repro.training.experiment import Experiment
from repro.training.protocols import Recorder, TrainingMethod, When

FAST = [*CLEAN, "optim.epochs=2", "device=cpu"]


def _all_recorder_classes() -> list[type]:
    for module in pkgutil.walk_packages(repro.__path__, "repro."):
        if not module.name.startswith(("repro.sweep", "repro.commands", "repro.cli")):
            importlib.import_module(module.name)
    found, todo = [], list(Recorder.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [c for c in found if c.__module__.startswith("repro.")]


def test_every_recorder_says_what_it_records_and_when():
    classes = _all_recorder_classes()
    assert len(classes) >= 12, [c.__name__ for c in classes]
    for cls in classes:
        assert isinstance(cls.records, str) and cls.records, cls
        assert isinstance(cls.when, When), cls


def test_the_loop_names_no_recorder_and_the_experiment_holds_typed_ones():
    loop = (REPO / "repro" / "train.py").read_text()
    for cls in _all_recorder_classes():
        assert cls.__name__ not in loop, cls
    for module in ("memorisation", "annotator_agreement", "out_of_sample"):
        assert f".{module} import" not in loop, module
    hints = typing.get_type_hints(Experiment)
    assert hints["method"] == TrainingMethod and hints["recorders"] == list[Recorder]  # built whole: never None


def test_the_out_of_sample_and_annotator_passes_are_priced_once(monkeypatch):
    cal = load_calibration(None)
    fold = to_container(
        load_config(["model=resnet18", "data=cifar10", "noise=uniform", "split.meta_fraction=0.2", "split.folds=5"])
    )
    sizes = run_sizes(fold)
    assert last_epoch_eval_images(fold, *sizes) == sizes[1]  # the held-out fold, once
    with_it = run_gpu_hours(fold, cal)
    monkeypatch.setattr(
        repro.recorders.registry, "RUN_RECORDERS", [r for r in RUN_RECORDERS if r.when != When.LAST_EPOCH]
    )
    without = run_gpu_hours(fold, cal)
    assert with_it - without == pytest.approx(sizes[1] * price(fold, cal).eval_ms_per_image / 3.6e6)
    monkeypatch.undo()
    annotated = to_container(load_config(["noise=annotators", "split=noisy"]))
    assert last_epoch_eval_images(annotated, *run_sizes(annotated)) == run_sizes(annotated)[0]  # the training images
    clean = to_container(load_config([]))
    assert last_epoch_eval_images(clean, *run_sizes(clean)) == 0


class CountingRecorder(Recorder):
    """A recorder defined here alone: counts the epochs it saw, and evaluates (it says) 7 images each."""

    records, when = "epochs_seen in the summary", When.EVERY_EPOCH

    @classmethod
    def for_run(cls, exp):
        return [cls()]

    @classmethod
    def eval_images(cls, config, n_train, n_meta, n_test):
        return 7

    def __init__(self):
        self.seen = 0

    def on_epoch_end(self, exp, epoch, row, tracker):
        self.seen += 1

    def summary(self):
        return {"epochs_seen": self.seen}


def test_a_recorder_registered_in_a_test_file_records_every_run_and_is_priced(tmp_path, monkeypatch):
    config = to_container(load_config(FAST))
    before = epoch_eval_images(config, *run_sizes(config))
    monkeypatch.setattr(repro.recorders.registry, "RUN_RECORDERS", list(RUN_RECORDERS))
    register_recorder(CountingRecorder)
    assert epoch_eval_images(config, *run_sizes(config)) == before + 7
    result = train(load_config([*FAST, f"output_root={tmp_path}"]))
    assert result.summary["epochs_seen"] == 2
