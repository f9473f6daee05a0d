"""MentorNet as runs: the mentor run (method=mentornet_mentor) dumps its StudentNet's losses and stores both mentors
with their provenance; a student (method=mentornet) refuses a missing or wrong mentor before writing anything, steps
on mean(v * CE) with the weight decay scaled by mean(v) (their ResNet script), records its weights on noisy vs clean
samples, counts DD's clean labels, and resumes exactly."""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from presets import NOISY, TINY_MENTOR
from repro.cli import main
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.methods.mentornet import records
from repro.methods.mentornet.weighting import StepWeights
from repro.runs.rundir import RunDir
from repro.tracking.wandb_end import input_artifacts
from repro.train import build_experiment, train
from resume_check import assert_resume_equals_uninterrupted

MENTOR = [*NOISY, "method=mentornet_mentor", *TINY_MENTOR, "optim.epochs=2"]


@pytest.fixture(scope="module")
def mentor_root(tmp_path_factory):
    """(output root, run id) of a finished tiny mentor run on noisy digits."""
    root = tmp_path_factory.mktemp("mentor")
    result = train(load_config([*MENTOR, f"output_root={root}"]))
    return root, result.run_dir.run_id


def student(mentor_root, curriculum: str, *extra: str, output_root=None) -> list[str]:
    """A student of the mentor run (by run id under its output root, or by directory with another output root)."""
    root, mentor = mentor_root
    mentor = mentor if output_root is None else str(root / "runs" / mentor)
    where = root if output_root is None else output_root
    return [*NOISY, "method=mentornet", f"method.curriculum={curriculum}", f"method.mentor={mentor}",
            f"output_root={where}", *extra]  # fmt: skip


def test_the_mentor_run_dumps_its_losses_and_stores_both_mentors(mentor_root):
    root, run_id = mentor_root
    rd = RunDir(root / "runs" / run_id)
    config, summary = rd.read_config(), rd.read_summary()
    samples, dump = records.read_dump(rd.path)
    dumped = len(samples) // 2  # two epochs, every dumped sample seen once in each
    assert len(dump) == 2 * dumped == summary["mentor_dump_rows"]
    assert set(samples.tolist()) == set(samples[:dumped].tolist())  # the same samples each epoch
    assert round(summary["num_train"] * 0.1) == dumped  # dump_fraction 0.1 of the training part
    assert dump.epoch.min() >= 0 and dump.epoch.max() <= 99 and bool((dump.loss > 0).all())
    assert float((dump.noisy != dump.clean).float().mean()) == pytest.approx(summary["mentor_dump_noisy_share"])
    record = records.read_record(rd)
    assert record["dd"]["dump_samples"] == dumped and record["dd"]["loss"] == "sigmoid cross-entropy"
    assert record["pd"]["loss"] == "squared error of the weight" and record["pd"]["steps"] == 40
    for curriculum in ("pd", "dd"):
        net = records.load_mentor(rd, curriculum)
        assert not any(p.requires_grad for p in net.parameters())
    # the dumped samples' clean labels are the DD mentor's targets: counted beside the held-out validation part
    assert summary["clean_labels_use"] == "validation only; mentor's targets"
    assert summary["clean_labels_used"] == summary["num_meta"] + dumped
    assert config["method"]["name"] == "mentornet_mentor"


def test_the_dumped_losses_are_the_steps_cross_entropies(tmp_path):
    """One epoch of a one-batch run: the dump holds each dumped sample's CE at the step's weights."""
    cfg = load_config([*MENTOR, "optim.epochs=1", "data.batch_size=512", f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    exp.set_epoch(0)
    x, y, idx = next(iter(exp.batches.train))
    with torch.no_grad():
        want = F.cross_entropy(copy.deepcopy(exp.model)(x), y, reduction="none")
    exp.method.train_step(exp, x, y, idx)
    samples, dump = exp.method.dump(exp)
    where = {int(i): n for n, i in enumerate(idx)}
    assert dump.loss.tolist() == pytest.approx([float(want[where[int(s)]]) for s in samples], rel=1e-5)
    assert dump.epoch.tolist() == [0] * len(dump)


@pytest.mark.parametrize("curriculum", ["pd", "dd"])
def test_a_student_trains_and_records_its_weights_on_noisy_and_clean_samples(mentor_root, curriculum):
    result = train(load_config([*student(mentor_root, curriculum), "optim.epochs=2"]))
    rows, summary = result.run_dir.read_metrics(), result.summary
    for row in rows:
        for key in ("weight_mean_noisy", "weight_mean_clean", "mentor_weight_mean_noisy", "mentor_weight_mean_clean"):
            assert 0.0 <= row[key] <= 1.0, key
        assert sum(row["weight_hist_noisy"]) + sum(row["weight_hist_clean"]) == summary["num_train"]
    assert summary["mentor_run"] == mentor_root[1] and summary["curriculum"] == curriculum
    assert summary["final_weight_mean_noisy"] == rows[-1]["weight_mean_noisy"]
    # PD's mentor learned from a formula (no clean labels); DD's from the mentor run's dumped clean labels
    dumped = records.read_record(RunDir(mentor_root[0] / "runs" / mentor_root[1]))["dd"]["dump_samples"]
    if curriculum == "dd":
        assert summary["clean_labels_use"] == "validation only; mentor's targets"
        assert summary["clean_labels_used"] == summary["num_meta"] + dumped
        assert (summary["mentor_burn_in_epoch"], summary["mentor_loss_percentile"]) == (18, 0.6)
    else:
        assert summary["clean_labels_use"] == "validation only" and summary["clean_labels_used"] == summary["num_meta"]
        assert (summary["mentor_burn_in_epoch"], summary["mentor_loss_percentile"]) == (0, 0.75)


def test_a_students_wandb_input_is_its_mentor_runs_model(mentor_root):
    """The student's W&B lineage names the mentor run it is weighted by, as a distillation student its teacher."""
    import wandb  # deferred: W&B's SDK takes seconds to import and only this test needs it

    (artifact,) = input_artifacts(wandb, to_container(load_config(student(mentor_root, "dd"))))
    assert artifact.name == f"model-{mentor_root[1]}" and artifact.type == "model"


def test_the_step_is_the_mean_of_weighted_losses_with_the_decay_scaled_by_the_mean_weight(mentor_root):
    """theta' = theta - lr * (grad mean_i(v_i CE_i) + mean(v) * wd * theta): their weighted loss plus
    decay_loss * sum(v) / batch, under plain SGD (no momentum)."""
    overrides = student(mentor_root, "dd", "optim.momentum=0", "optim.nesterov=false", "optim.weight_decay=0.05")
    cfg = load_config(overrides)
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    exp.set_epoch(0)
    x, y, idx = next(iter(exp.batches.train))
    v = torch.linspace(0.0, 1.0, len(y))
    exp.method.weighting = lambda loss, step, total: StepWeights(v, v, 0)
    reference = copy.deepcopy(exp.model)
    loss = (F.cross_entropy(reference(x), y, reduction="none") * v).mean()
    grads = torch.autograd.grad(loss, list(reference.parameters()))
    lr, wd = exp.optim.lr, 0.05
    want = [p.detach() - lr * (g + float(v.mean()) * wd * p.detach()) for p, g in zip(reference.parameters(), grads)]
    out = exp.method.train_step(exp, x, y, idx)
    assert float(out.loss) == pytest.approx(loss.item(), rel=1e-6)
    for got, expected in zip(exp.model.parameters(), want):
        torch.testing.assert_close(got.detach(), expected, rtol=1e-5, atol=1e-7)


def test_a_student_refuses_a_missing_or_wrong_mentor_before_writing(mentor_root, tmp_path, capsys):
    root, _ = mentor_root
    baseline = train(load_config([*NOISY, "method=baseline", "optim.epochs=1", f"output_root={root}"]))
    cases = {
        "method.mentor=null": "method.mentor is not set",
        "method.mentor=digits-smallcnn-mentornet_mentor-0000000000": "does not exist",
        f"method.mentor={baseline.run_dir.path}": "is a method=baseline run, not a mentor run",
    }
    for override, words in cases.items():
        with pytest.raises(UserError, match=words):
            train(load_config([*student(mentor_root, "dd", output_root=tmp_path), override]))
        assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    bad = student(mentor_root, "dd", "method.example_dropout_rates=[0.5,17,0.05,80]", output_root=tmp_path)
    code = main(["train", *bad])
    assert code == 2 and "add up to 100" in capsys.readouterr().err


def test_a_mentor_run_whose_mentor_file_is_gone_is_refused(mentor_root, tmp_path):
    root, run_id = mentor_root
    copied = tmp_path / "runs" / run_id
    shutil.copytree(root / "runs" / run_id, copied)
    (copied / "mentor" / "pd.pt").unlink()
    with pytest.raises(UserError, match="PD mentor .* is gone"):
        train(load_config([*student((tmp_path, run_id), "pd"), "optim.epochs=1"]))


@pytest.mark.slow
def test_a_student_resumes_exactly(mentor_root, tmp_path):
    """The moving percentile and the step counter are in the checkpoint: resumed == uninterrupted."""
    overrides = [x for x in student(mentor_root, "dd", output_root=tmp_path) if not x.startswith("output_root=")]
    _, tensors = assert_resume_equals_uninterrupted([*overrides, "optim.epochs=2"], tmp_path)
    assert "/method/weighting/moving_average" in tensors


@pytest.mark.slow
def test_a_mentor_run_resumes_exactly(tmp_path):
    """The dump is in the checkpoint: resumed after its first epoch, the dump and both mentors are the same."""
    whole, _ = assert_resume_equals_uninterrupted([*MENTOR], tmp_path)
    resumed = RunDir(tmp_path / "b" / "runs" / whole.run_dir.run_id)
    assert np.array_equal(np.load(records.dump_file(whole.run_dir.path)), np.load(records.dump_file(resumed.path)))
    for curriculum in ("pd", "dd"):
        a, b = records.load_mentor(whole.run_dir, curriculum), records.load_mentor(resumed, curriculum)
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert json.loads(records.record_file(whole.run_dir.path).read_text())["run"] == whole.run_dir.run_id


def test_a_mentor_run_whose_dump_fills_no_mentor_batch_is_refused_before_it_trains(tmp_path, capsys):
    tiny_dump = ["method.dump_fraction=0.01", "method.mentor_batch_size=32"]
    code = main(["train", *MENTOR, *tiny_dump, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "fewer than one mini-batch" in err and "Traceback" not in err
    assert not any(p.name == "checkpoint.pt" for p in tmp_path.rglob("*"))
