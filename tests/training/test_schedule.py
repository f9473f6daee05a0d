"""Setting A's iteration-based schedule (repro/training/schedule.py): Meta-Weight-Net's 20,000 steps with the lr / 10 at
steps 18,000 and 19,000, the loop's step counts, and resume at an epoch boundary or after a mid-epoch stop."""

from __future__ import annotations

import pytest
import torch

from presets import CLEAN, QUIET
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.methods.fixed_targets import FixedTargets
from repro.runs.checkpoint import load_checkpoint
from repro.runs.rundir import RunDir
from repro.train import Interrupted, train
from repro.training.optimization import RunSchedule
from repro.training.schedule import planned_steps, steps_in_epoch
from resume_check import EXACT, assert_resume_equals_uninterrupted, checkpoint_tensors, torch_flags_kept


def _their_lr(iters: int, lr: float = 0.1) -> float:
    """train_WRN-28-10_Meta_PGC.py: `for iters in range(args.iters): adjust_learning_rate(optimizer_a, iters + 1)`
    with lr = args.lr * ((0.1 ** int(iters >= 18000)) * (0.1 ** int(iters >= 19000)))."""
    i = iters + 1
    return lr * ((0.1 ** int(i >= 18000)) * (0.1 ** int(i >= 19000)))


@pytest.mark.slow
def test_setting_a_is_meta_weight_nets_twenty_thousand_iterations():
    optim = load_config(["optim=setting_a", "data.batch_size=100"]).optim
    assert optim.iterations == 20000 and list(optim.milestone_iterations) == [18000, 19000]
    # 49,000 noisy CIFAR images at batch 100: 490 steps per epoch, 41 epochs, the last one 400 steps.
    epochs, total = planned_steps(optim, 490)
    assert (epochs, total) == (41, 20000)
    per_epoch = [steps_in_epoch(e, 490, total) for e in range(epochs)]
    assert per_epoch[:40] == [490] * 40 and per_epoch[40] == 400 and sum(per_epoch) == 20000
    # Every step's lr, as the loop sees it (the optimizer's lr at the step, then after_step), is theirs.
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=float(optim.lr))
    schedule = RunSchedule(optimizer, optim, epoch_lambda=None)
    ours = []
    for epoch in range(epochs):
        for _ in range(per_epoch[epoch]):
            ours.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.after_step()
        schedule.after_epoch()  # does not move a per-step schedule
    assert len(ours) == 20000
    assert ours == pytest.approx([_their_lr(i) for i in range(20000)], rel=1e-12)
    drops = [i + 1 for i in range(1, 20000) if ours[i] < ours[i - 1]]  # 1-based step numbers of the drops
    assert drops == [18000, 19000]
    assert [sum(1 for v in ours if v == pytest.approx(x)) for x in (0.1, 0.01, 0.001)] == [17999, 1000, 1001]


def test_epoch_presets_keep_their_epoch_schedule_and_ids():
    cfg = load_config(["model=wrn28_10"])
    assert "iterations" not in cfg.optim  # the Table 9 presets (and setting B) are untouched: their run ids stay
    assert planned_steps(cfg.optim, 390) == (120, 120 * 390)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    from repro.training.schedule import lr_lambda

    schedule = RunSchedule(
        optimizer, load_config(["optim=setting_b"]).optim, lr_lambda(load_config(["optim=setting_b"]).optim)
    )
    for _ in range(5):
        optimizer.step()
        schedule.after_step()  # per-epoch: a step does not move it
    assert schedule.last_epoch == 0
    schedule.after_epoch()
    assert schedule.last_epoch == 1


# A tiny iteration-based run: ~240 training digits at batch 64 = 4 steps per epoch; 10 iterations = epochs of
# 4, 4 and 2 steps, the lr divided at steps 6 (inside epoch 2) and 9 (inside the cut-short epoch 3).
TINY = [
    "data.subset=300",
    "optim=setting_a",
    "optim.epochs=5",
    "optim.iterations=10",
    "optim.milestone_iterations=[6,9]",
    *QUIET,
]


def _recording_lrs(monkeypatch, stop_at: int | None = None) -> list[float]:
    lrs: list[float] = []
    original = FixedTargets.train_step

    def step(self, exp, x, y, idx):
        if stop_at is not None and len(lrs) == stop_at:
            raise Interrupted("stopped mid-epoch (test)")
        lrs.append(exp.optim.lr)
        return original(self, exp, x, y, idx)

    monkeypatch.setattr(FixedTargets, "train_step", step)
    return lrs


def test_the_loop_trains_exactly_the_iterations_with_the_drops_where_asked(tmp_path, monkeypatch):
    lrs = _recording_lrs(monkeypatch)
    result = train(load_config([*TINY, f"output_root={tmp_path}"]))
    assert len(lrs) == 10
    assert lrs == pytest.approx([0.1] * 5 + [0.01] * 3 + [0.001] * 2)
    rows = result.run_dir.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3] and result.summary["epochs"] == 3
    assert [r["lr"] for r in rows] == pytest.approx([0.1, 0.1, 0.001])  # the lr of each epoch's first step


def test_a_scaled_down_sweep_stops_at_its_epochs():
    cfg = load_config([*TINY, "optim.epochs=2"])
    assert planned_steps(cfg.optim, 4) == (2, 8)


@pytest.mark.slow
def test_resume_at_an_epoch_boundary_keeps_the_schedule(tmp_path):
    assert_resume_equals_uninterrupted(TINY, tmp_path)  # stopped after epoch 1, the first drop comes after


@pytest.mark.slow
def test_resume_after_a_stop_in_mid_epoch_keeps_the_schedule(tmp_path, monkeypatch):
    """Stopped at step 7 (inside epoch 2, after the first drop): the run resumes from epoch 1's checkpoint, redoes
    epoch 2 at the same lrs, and ends where an uninterrupted run ends."""
    overrides = [*TINY, *EXACT]
    with torch_flags_kept():
        whole = train(load_config([*overrides, f"output_root={tmp_path / 'a'}"]))
        cfg = load_config([*overrides, f"output_root={tmp_path / 'b'}"])
        stopped = _recording_lrs(monkeypatch, stop_at=6)
        with pytest.raises(Interrupted):
            train(cfg)
        assert len(RunDir.for_config(to_container(cfg)).read_metrics()) == 1
        monkeypatch.undo()
        lrs = _recording_lrs(monkeypatch)
        resumed = train(cfg)
    assert stopped == pytest.approx([0.1] * 5 + [0.01])
    assert lrs == pytest.approx([0.1, 0.01, 0.01, 0.01, 0.001, 0.001])  # steps 5-10
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(resumed.run_dir.read_metrics()) == drop(whole.run_dir.read_metrics())
    a = dict(checkpoint_tensors(load_checkpoint(whole.run_dir.checkpoint_file)))
    b = dict(checkpoint_tensors(load_checkpoint(resumed.run_dir.checkpoint_file)))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "override, needle",
    [
        ("optim.milestone_iterations=[6,11]", "optim.milestone_iterations"),
        ("optim.milestone_iterations=[9,6]", "optim.milestone_iterations"),
        ("optim.warmup_epochs=2", "optim.warmup_epochs"),
        ("optim.iterations=0", "optim.iterations"),
    ],
)
def test_bad_iteration_schedules_are_refused(tmp_path, override, needle):
    with pytest.raises(UserError, match=needle):
        train(load_config([*TINY, override, f"output_root={tmp_path}"]))
    assert not list(tmp_path.glob("runs/*/summary.json"))


def test_an_epoch_based_run_gives_any_epoch_a_full_pass(tmp_path):
    from repro.train import build_experiment

    cfg = load_config([*CLEAN, "optim.epochs=2", f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    per = len(exp.batches.train)
    assert exp.optim.epochs == 2 and exp.optim.total_steps == 2 * per
    assert [exp.optim.steps_in_epoch(e) for e in (0, 1, 5)] == [per] * 3  # benchmarks run epochs past optim.epochs
    cfg = load_config([*TINY, f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    assert (exp.optim.epochs, exp.optim.total_steps) == (3, 10) and [exp.optim.steps_in_epoch(e) for e in range(4)] == [
        4,
        4,
        2,
        0,
    ]
