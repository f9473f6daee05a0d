"""Every registered method trains on MNIST-1D's signals with its 1-D networks: the CNN for every method, the MLP as
the student of another run (distillation from, and labels transferred from, the CNN; MentorNet weighted by the
CNN's mentor run), and replay through a tiny
MNIST-1D sweep (its fold runs, then the replaying final)."""

from __future__ import annotations

import textwrap

import pytest

from presets import QUIET, TINY_MENTOR, TINY_SWEEP, TINY_SWEEP_SCALE, noisy_split
from repro.config import load_config
from repro.methods import METHODS, method_class
from repro.methods.from_run import LearnsFromRun
from repro.runs.rundir import RunDir
from repro.sweep.run import run_sweep
from repro.train import train

# 300 of the default 4,000 training signals, one epoch, on the CPU
TINY = ["data=mnist1d", "data.subset=300", "data.test_subset=100", "optim.epochs=1", "device=cpu", *QUIET]
# the methods that cannot start without another finished run: Sec. 3.4's students, and MentorNet (its mentor run)
STUDENTS = sorted({name for name in METHODS if issubclass(method_class(name), LearnsFromRun)} | {"mentornet"})
FROM_FOLDS = {"replay"}  # reads a sweep's fold runs: the tiny sweep below trains it
QUICK = {"mentornet_mentor": TINY_MENTOR}  # its mentors' training at the last epoch, cut to a few steps


def _trained(result) -> None:
    assert result.summary["epochs"] == 1 and 0.0 <= result.summary["final_test_acc"] <= 1.0


@pytest.mark.parametrize("name", sorted(set(METHODS) - set(STUDENTS) - FROM_FOLDS))
def test_every_method_trains_the_1d_cnn_on_mnist1d(name, tmp_path):
    overrides = [
        *TINY,
        "model=cnn1d",
        f"method={name}",
        *noisy_split(),
        *QUICK.get(name, []),
        f"output_root={tmp_path}",
    ]
    _trained(train(load_config(overrides)))


@pytest.mark.slow
def test_the_students_learn_from_the_cnn_into_the_mlp(tmp_path):
    teacher = train(load_config([*TINY, "model=cnn1d", "method=baseline", "split=full", f"output_root={tmp_path}"]))
    source = train(load_config([*TINY, "model=cnn1d", "method=instance_labels", f"output_root={tmp_path}"]))
    mentor = [*TINY, "model=cnn1d", "method=mentornet_mentor", *TINY_MENTOR, *noisy_split(), f"output_root={tmp_path}"]
    sources = {"distillation": f"method.teacher={teacher.run_dir.run_id}"}
    sources["transferred_labels"] = f"method.source={source.run_dir.run_id}"
    sources["mentornet"] = f"method.mentor={train(load_config(mentor)).run_dir.run_id}"
    assert set(sources) == set(STUDENTS)
    for name in STUDENTS:
        split = noisy_split() if name == "mentornet" else ["split=full"]  # a mentor weighs noisy samples
        student = [*TINY, "model=mlp", f"method={name}", *split, sources[name], f"output_root={tmp_path}"]
        _trained(train(load_config(student)))


@pytest.mark.slow
def test_a_tiny_mnist1d_sweep_trains_folds_then_the_replaying_final(tmp_path):
    text = TINY_SWEEP.replace(
        "Digits/SmallCNN: [data=digits, model=smallcnn]", "MNIST-1D/CNN1D: [data=mnist1d, model=cnn1d]"
    )
    assert text != TINY_SWEEP
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(text))
    plan = run_sweep(path, output_root=tmp_path / "out", scale=TINY_SWEEP_SCALE, report=lambda line: None)
    assert plan.failed == [] and plan.counts() == {"done": 4}
    final = next(r for r in plan.unique.values() if r.stage == "final")
    config = RunDir(tmp_path / "out" / "runs" / final.run_id).read_config()
    assert config["method"]["name"] == "replay" and config["data"]["name"] == "mnist1d"
