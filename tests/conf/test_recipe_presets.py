"""The recipe choices the paper leaves open, one override each (repro/conf/optim/<choice>/*.yaml): each preset
composes the same through Hydra and the sweep planner, sets what it says, leaves the default run ids alone, and the
look-ahead's lr follows `optim.lookahead_lr`."""

from __future__ import annotations

import math
from importlib.resources import files

import pytest
import torch

from repro.config import load_config, to_container
from repro.runs.rundir import RunDir, run_id
from repro.sweep.expand.build import COMPOSER
from repro.sweep.expand.overrides import parse_all
from repro.training.optimization import sgd_with_schedule
from repro.training.schedule import lr_lambda

CHOICES = ("schedule", "nesterov", "warmup", "lookahead_lr")


def _presets() -> list[tuple[str, str]]:
    root = files("repro.conf").joinpath("optim")
    return [
        (choice, p.name[:-5])
        for choice in CHOICES
        for p in sorted(root.joinpath(choice).iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    ]


@pytest.mark.parametrize(("choice", "name"), _presets())
def test_each_preset_says_where_it_comes_from_and_composes_alike(choice, name):
    text = files("repro.conf").joinpath("optim", choice, f"{name}.yaml").read_text()
    assert text.startswith("# @package optim\n")
    header = [line for line in text.splitlines()[1:] if line.startswith("#")]
    assert header and header[0].startswith(f"# `optim/{choice}={name}`")  # the one override that picks it
    overrides = ["model=resnet18", f"optim/{choice}={name}"]
    hydra = to_container(load_config(overrides))
    assert COMPOSER.compose(parse_all(overrides, "test"), where="test") == hydra  # the planner's fast path agrees


def test_the_presets_set_what_they_name():
    def optim(*overrides: str):
        return load_config(["model=resnet18", *overrides]).optim

    default = optim()
    assert (default.schedule, default.nesterov, default.warmup_epochs, default.lookahead_lr) == (
        "cosine",
        True,
        5,
        "current",
    )
    step = lr_lambda(optim("optim/schedule=step", "optim/warmup=none"))
    epochs = int(default.epochs)  # 165: milestones at round(0.5 * 165) = 82 and round(0.75 * 165) = 124
    assert [step(e) for e in (0, 81, 82, 123, 124, epochs - 1)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    floor = lr_lambda(optim("optim/schedule=cosine_floor"))
    to_zero = lr_lambda(default)
    assert floor(epochs) == pytest.approx(0.01) and to_zero(epochs) == pytest.approx(0.0)
    assert floor(epochs - 1) > to_zero(epochs - 1) > 0
    assert [lr_lambda(optim("optim/warmup=none"))(0), to_zero(0)] == pytest.approx([1.0, 0.2])
    model = torch.nn.Linear(2, 2)
    assert sgd_with_schedule(model, optim("optim/nesterov=off"))[0].param_groups[0]["nesterov"] is False
    # the presets stack, and a key override after them still wins
    both = optim("optim/schedule=step", "optim/nesterov=off", "optim.gamma=0.2")
    assert (both.schedule, both.nesterov, both.gamma) == ("multistep", False, 0.2)


def test_a_preset_equal_to_the_default_keeps_the_run_id():
    base = ["model=resnet18", "method=instance_labels"]
    same = run_id(to_container(load_config(base)))
    for preset in (
        "optim/schedule=cosine",
        "optim/nesterov=on",
        "optim/warmup=five_epochs",
        "optim/lookahead_lr=current",
    ):
        assert run_id(to_container(load_config([*base, preset]))) == same, preset
    assert run_id(to_container(load_config([*base, "optim/lookahead_lr=peak"]))) != same


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")
def test_the_lookahead_steps_at_the_peak_lr_with_lookahead_lr_peak(tmp_path, monkeypatch):
    import repro.methods.learned_labels as learned

    seen: list[tuple[float, float]] = []
    real = learned.meta_label_step

    def spy(model, labels, batch, meta, step, **kwargs):
        seen.append((step.lr, exp_ref[0].optim.lr))
        return real(model, labels, batch, meta, step, **kwargs)

    monkeypatch.setattr(learned, "meta_label_step", spy)
    from repro.train import build_experiment

    exp_ref = []
    got = {}
    for mode in ("current", "peak"):
        cfg = load_config(
            [
                "method=class_labels",
                "data.subset=100",
                "data.test_subset=50",
                "optim.epochs=4",
                f"optim.lookahead_lr={mode}",
                f"output_root={tmp_path}",
                "device=cpu",
            ]
        )
        exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
        exp_ref[:] = [exp]
        seen.clear()
        for _ in range(3):  # into the cosine's decay: the current lr is well under the peak
            exp.optim.schedule.after_epoch()
        x, y, idx = next(iter(exp.batches.train))
        exp.method.train_step(exp, x, y, idx)
        got[mode] = seen[-1]
    peak = 0.05  # optim=smallcnn's lr
    current = got["current"][1]
    assert current < peak / 2
    assert got["current"][0] == pytest.approx(current) and got["peak"][0] == pytest.approx(peak)
    assert math.isclose(got["peak"][1], current)  # the real step still follows the schedule
