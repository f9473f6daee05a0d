"""method=distillation and method=transferred_labels (Sec. 3.4): the loss by hand, the teacher frozen in eval mode on
the student's own batch, converged labels as targets, resume = uninterrupted, and every bad teacher refused before
any work with a one-paragraph error."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.methods.distillation import distillation_loss
from repro.methods.temperature import scale_logits, scale_probabilities
from repro.runs.rundir import RunDir
from repro.train import Interrupted, build_experiment, train
from resume_check import EXACT, torch_flags_kept

SHORT = ["optim.epochs=2", "data.subset=300", "data.test_subset=150", *QUIET]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("teachers")


@pytest.fixture(scope="module")
def teacher(root) -> str:
    return train(load_config([*SHORT, "method=baseline", "split=full", f"output_root={root}"])).run_dir.run_id


def student(root, *extra: str) -> list[str]:
    return [*SHORT, "model=tinycnn", "split=full", f"output_root={root}", *extra]


def test_distillation_loss_by_hand():
    zs = torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    zt = torch.tensor([[3.0, 1.0, 0.0], [0.0, 0.0, 4.0]])
    y = torch.tensor([0, 1])
    t = 2.0
    q = torch.softmax(zt / t, 1)
    soft = t * t * (-(q * torch.log_softmax(zs / t, 1)).sum(1)).mean()
    assert torch.allclose(distillation_loss(zs, scale_logits(zt, t), y, t, 0.0), soft)
    mixed = 0.3 * F.cross_entropy(zs, y) + 0.7 * soft
    assert torch.allclose(distillation_loss(zs, scale_logits(zt, t), y, t, 0.3), mixed)
    # T = 0: the teacher's arg-max as a hard target, the student at T = 1
    assert torch.allclose(distillation_loss(zs, scale_logits(zt, 0.0), y, 0.0, 0.0), F.cross_entropy(zs, zt.argmax(1)))


def test_a_step_uses_the_frozen_teachers_scaled_predictions_on_the_students_batch(root, teacher):
    cfg = load_config(student(root, "method=distillation", f"method.teacher={teacher}", "method.temperature=3"))
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    method = exp.method
    assert not method.teacher.training and not any(p.requires_grad for p in method.teacher.parameters())
    before = copy.deepcopy(method.teacher.state_dict())
    x, y, idx = next(iter(exp.batches.train))
    with torch.no_grad():
        want_targets = scale_logits(method.teacher(x), 3.0)
        want = distillation_loss(copy.deepcopy(exp.model)(x), want_targets, y, 3.0, 0.0)
    out = method.train_step(exp, x, y, idx)
    assert torch.allclose(out.loss, want, atol=1e-6)
    after = method.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BatchNorm statistics untouched


def test_the_teacher_takes_the_runs_memory_format(root, teacher):
    # channels_last is the default on CUDA: a teacher left in NCHW would convert every batch in every conv
    cfg = load_config(
        student(root, "method=distillation", f"method.teacher={teacher}", "method.temperature=3", "channels_last=true")
    )
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    convs = [m.weight for m in exp.method.teacher.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not exp.method.teacher.training and not any(p.requires_grad for p in exp.method.teacher.parameters())


@pytest.mark.slow
def test_distillation_resume_equals_an_uninterrupted_run(root, teacher, tmp_path):
    with torch_flags_kept():
        _distillation_resume_equals_an_uninterrupted_run(root, teacher, tmp_path)


def _distillation_resume_equals_an_uninterrupted_run(root, teacher, tmp_path):
    extra = ["method=distillation", f"method.teacher={teacher}", "method.temperature=2", "optim.epochs=3", *EXACT]
    whole = train(load_config(student(root, *extra)))
    # the same run in a second output root (the teacher named by its directory), stopped after one epoch
    other = tmp_path / "other"
    cfg = load_config(student(other, *extra[:1], f"method.teacher={root / 'runs' / teacher}", *extra[2:]))
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    resumed = train(cfg)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(resumed.run_dir.read_metrics()) == strip(whole.run_dir.read_metrics())
    assert resumed.summary["final_test_acc"] == whole.summary["final_test_acc"]
    assert whole.summary["temperature"] == 2.0 and whole.summary["source_run"] == teacher


@pytest.mark.slow
def test_transferred_labels_are_the_sources_converged_labels_scaled(root):
    source = train(load_config([*SHORT, "method=instance_labels", "method.label_lr=200", f"output_root={root}"]))
    cfg = load_config(
        student(root, "method=transferred_labels", f"method.source={source.run_dir.run_id}", "method.temperature=4")
    )
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    from repro.labels.trajectory import instance_labels_at

    index, rows = instance_labels_at(source.run_dir, 2)
    got = exp.method.targets.cpu()
    want = scale_probabilities(torch.from_numpy(rows), 4.0)
    assert torch.allclose(got[torch.from_numpy(index)], want, atol=1e-5)
    assert not torch.allclose(want, torch.from_numpy(rows), atol=1e-3)  # T = 4 did soften them
    meta = sorted(set(range(len(got))) - set(index.tolist()))  # samples the source never trained on: one-hot
    assert meta and torch.equal(got[meta], F.one_hot(exp.data.train_targets[meta], 10).float())
    assert exp.method.learned_rows == len(index)


def _refused(capsys, overrides: list[str], *needles: str) -> None:
    code = main(["train", *overrides])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and err.startswith("error: "), err
    assert len(err.strip().splitlines()) == 1, err  # one paragraph
    for needle in needles:
        assert needle in err, (needle, err)


def _fake_run(root, config: dict, state: str, message: str = "") -> str:
    rd = RunDir.for_config(config)
    rd.path.mkdir(parents=True)
    rd.write_config(config)
    if state == "done":
        rd.write_summary({"final_test_acc": 0.5})
    else:
        rd.write_status(state, epoch=1, message=message)
    return rd.run_id


@pytest.mark.slow
def test_bad_teachers_and_temperatures_are_refused_before_any_work(root, teacher, tmp_path, capsys):
    out = tmp_path / "out"
    base = student(out, "method=distillation")

    def nothing_written() -> bool:
        return not (out / "runs").exists() or {p.name for p in (out / "runs").iterdir()} <= fakes

    fakes: set[str] = set()
    _refused(capsys, base, "method.teacher is not set")
    _refused(capsys, [*base, "method.teacher=nope-123"], "'nope-123'", "does not exist", "repro sweep")
    for state, needle in (("running", "not finished (running at epoch 1)"), ("failed", "failed (loss became NaN)")):
        cfg = to_container(load_config([*SHORT, "method=baseline", f"seed={len(fakes) + 7}", f"output_root={out}"]))
        fakes.add(rid := _fake_run(out, cfg, state, "loss became NaN" if state == "failed" else ""))
        _refused(capsys, [*base, f"method.teacher={rid}"], rid, needle)
    for key, value, needle in (("name", "cifar10", "data.name='cifar10'"), ("num_classes", 7, "data.num_classes=7")):
        cfg = to_container(load_config([*SHORT, "method=baseline", f"output_root={out}", f"seed={len(fakes) + 7}"]))
        cfg["data"][key] = value
        fakes.add(rid := _fake_run(out, cfg, "done"))
        _refused(capsys, [*base, f"method.teacher={rid}"], rid, needle, "does not fit")
    _refused(
        capsys,
        [*base, f"method.teacher={root / 'runs' / teacher}", "method.temperature=-0.5"],
        "method.temperature=-0.5",
        "number >= 0",
    )
    _refused(
        capsys,
        [*base, f"method.teacher={root / 'runs' / teacher}", "method.temperature=search"],
        "number >= 0",
        "tuning stage",
    )  # the search is a sweep's tuning stage now
    # a label source must have learned labels (the baseline teacher has none)
    _refused(
        capsys,
        [*student(out, "method=transferred_labels"), f"method.source={root / 'runs' / teacher}"],
        teacher,
        "no learned labels to transfer",
    )
    assert nothing_written(), sorted(p.name for p in (out / "runs").iterdir())
