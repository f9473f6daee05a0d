"""Every method declares what its step costs, `repro bench` times every kind, and every run of every model is
priced: a run is never counted as zero."""

from __future__ import annotations

import pytest

from repro.cli import main
from repro.config import load_config, to_container
from repro.methods import METHODS, method_class, method_declaration
from repro.models import MODEL_NAMES
from repro.sweep.budget.calibration import H100_MS, Calibration, load_calibration
from repro.sweep.budget.costs import price, run_gpu_hours
from repro.sweep.budget.estimate import estimate
from repro.sweep.spec.model import PlannedRun
from repro.training.step_cost import LABEL_LOOKAHEAD, STEP_COSTS

NOISY = ["split=noisy", "noise=uniform", "model=wrn28_10", "optim=setting_a", "data.batch_size=100"]


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def _config(*overrides: str) -> dict:
    return to_container(load_config(["data=cifar10", "optim.epochs=3", *overrides]))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_declares_its_own_step_cost(name):
    declared = method_declaration(name)
    assert "step_cost" in vars(declared), f"{declared.__name__} must declare step_cost (its trainer reads it there)"
    assert declared.step_cost in STEP_COSTS
    assert method_class(name).declaration is declared


def test_a_method_without_a_declaration_has_none_to_inherit():
    from repro.methods.base import Method

    assert not hasattr(Method, "step_cost") and Method.declaration is None


@pytest.mark.slow
def test_reweighting_and_two_network_rows_cost_more_than_the_baseline_of_their_setting():
    cal = Calibration.h100_defaults()
    baseline = run_gpu_hours(_config(*NOISY, "method=baseline"), cal)
    for method in ("l2rw", "mwnet", "coteaching"):
        assert run_gpu_hours(_config(*NOISY, f"method={method}"), cal) > 1.5 * baseline, method
    # without the memorisation pass over the training set (priced in both alike: tests/sweep/budget/test_costs.py), the
    # steps dominate; the validation and test passes (the same in both) dilute a little
    baseline = run_gpu_hours(_config(*NOISY, "method=baseline", "memorisation_samples=0"), cal)
    labels = run_gpu_hours(_config(*NOISY, "method=instance_labels", "memorisation_samples=0"), cal)
    ratio = H100_MS["wrn28_10"]["meta"] / H100_MS["wrn28_10"]["plain"]
    assert 0.85 * ratio < labels / baseline < ratio  # each epoch's fixed cost (the same in both) dilutes too


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.slow
def test_every_model_and_step_kind_is_priced_from_the_h100_figures(model):
    cal = Calibration.h100_defaults()
    data = "digits" if model in ("smallcnn", "tinycnn") else "cifar100"
    for method in ("baseline", "instance_labels", "l2rw", "mwnet", "coteaching"):
        got = price(_config(f"data={data}", f"model={model}", f"method={method}"), cal)
        assert got is not None and got.step_ms > 0 and got.eval_ms_per_image > 0
        assert bool(got.notes) == (model not in H100_MS or method in ("l2rw", "mwnet", "coteaching"))


def test_a_calibration_without_a_kind_estimates_it_and_says_so():
    cal = Calibration("G", 128, {"resnet18": {"plain": 10.0}}, {"resnet18": 0.01}, "test")
    got = price(_config("model=resnet18", "method=class_labels"), cal)
    factor = LABEL_LOOKAHEAD.estimate[1]
    assert got.step_ms == pytest.approx(10.0 * factor) and "meta steps = " in got.notes[0]
    empty = Calibration("G", 128, {}, {}, "test")
    runs = [PlannedRun("r", "row", "column", 0, "single", None, (), _config("model=resnet18"))]
    text = estimate(runs, empty).render()
    assert "not priced, so the total is a lower bound" in text and "at least 0.00" in text


@pytest.mark.slow
def test_bench_on_the_cpu_times_every_step_kind_of_a_model(capsys):
    assert (
        main(["bench", "--device", "cpu", "--models", "tinycnn", "--batch", "4", "--meta-batch", "8", "--steps", "1"])
        == 0
    )
    cal = load_calibration()
    assert set(cal.steps_ms["tinycnn"]) == {k.key for k in STEP_COSTS}
    assert all(v > 0 for v in cal.steps_ms["tinycnn"].values()) and cal.shapes["tinycnn"] == [1, 8, 8, 10]
    # priced from its own figures now: no estimate note for a plain digits run
    assert price(_config("data=digits", "model=tinycnn", "method=baseline"), cal).notes == ()
