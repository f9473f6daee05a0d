"""An estimated T from a network at chance, from inside the lr warm-up, or near uniform is flagged where the user
looks first (repro/recorders/transition_check.py): the run's stderr and summary, `repro sweep status` and the notes
under the rendered table; a T from a network that learned is not."""

from __future__ import annotations

import json
import math
import textwrap

import pytest
import torch

from analysis.tables.notes import table_notes
from presets import NOISY, QUIET
from repro.cli import main
from repro.data.noise import transition_matrix
from repro.recorders.transition_check import RECORD_FILE, at_chance
from repro.recorders.transition_record import estimate_record
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.status import render_status, sweep_status
from repro.sweep.sweep_file import load_sweep

TRUE_T = transition_matrix({"kind": "uniform", "fraction": 0.4}, 10, dtype=torch.float64)
NEAR_UNIFORM_T = 0.02 * torch.eye(10, dtype=torch.float64) + 0.098  # diagonal mean 0.118


def _record(t: torch.Tensor = TRUE_T, **kwargs) -> dict:
    given = {"epoch": 4, "noisy_val_loss": 3.06, "val_acc": 0.9, "warmup_epochs": 0, **kwargs}
    return estimate_record(t, estimator_run="est", estimate_at="noisy_val_loss", **given)


def test_a_network_that_learned_gives_no_warning_though_its_noisy_held_out_loss_is_above_ln_c():
    # the digits best-validation network: accuracy 0.90, noisy held-out loss 3.06 > ln 10 (confident on held-out
    # images whose labels are wrong); its T is the run's best
    record = _record()
    assert record["transition_estimate_warnings"] == [] and record["transition_estimate_warning"] == ""
    assert record["transition_diag_mean"] == pytest.approx(0.64)
    assert record["transition_condition"] == pytest.approx(float(torch.linalg.cond(TRUE_T)))


def test_the_epoch_one_network_at_chance_and_its_near_uniform_t_are_flagged():
    record = _record(NEAR_UNIFORM_T, epoch=1, noisy_val_loss=2.319, val_acc=0.117)
    chance, uniform = record["transition_estimate_warnings"]
    assert "epoch 1" in chance and "no better than chance" in chance and "0.117" in chance
    assert "near uniform" in uniform and "0.118" in uniform
    assert record["transition_estimate_warning"] == f"{chance}; {uniform}"


def test_chance_by_accuracy_or_without_one_by_the_noisy_loss_and_the_warm_up():
    assert at_chance(10, val_acc=0.15, noisy_val_loss=1.0) and not at_chance(10, val_acc=0.16, noisy_val_loss=9.0)
    assert at_chance(10, val_acc=None, noisy_val_loss=0.98 * math.log(10))
    assert not at_chance(10, val_acc=None, noisy_val_loss=0.97 * math.log(10))
    assert not at_chance(10, val_acc=None, noisy_val_loss=None)
    [warm] = _record(epoch=3, warmup_epochs=5)["transition_estimate_warnings"]
    assert "inside its lr warm-up" in warm and "warmup_epochs=5" in warm
    assert _record(epoch=6, warmup_epochs=5)["transition_estimate_warnings"] == []


# -- on tiny noisy digits: an 8-epoch one-hot estimator (noisy held-out loss lowest at epoch 1, best validation at 8) --

ESTIMATED = ["method=loss_correction", "method.transition=estimated", "optim.epochs=1"]


@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimator")
    assert main(["train", "method=baseline", *NOISY, "optim.epochs=8", f"output_root={root}"]) == 0
    (run,) = list((root / "runs").iterdir())
    return root, run


def _corrected(root, run, rule: str, capsys) -> tuple[dict, dict, str]:
    options = [*NOISY, *ESTIMATED, f"method.estimator={run.name}", f"method.estimate_at={rule}"]
    assert main(["train", *options, f"output_root={root}"]) == 0
    output = capsys.readouterr()
    for path in (root / "runs").iterdir():
        summary = json.loads((path / "summary.json").read_text())
        if summary.get("estimate_at") == rule:
            return summary, json.loads((path / RECORD_FILE).read_text()), output.out + output.err
    raise AssertionError(f"no run estimated at {rule}")


@pytest.mark.slow
def test_a_t_from_the_epoch_one_network_is_flagged_in_the_run_and_its_summary(estimator, capsys):
    root, run = estimator
    assert json.loads((run / "estimate" / "noisy_val_loss.json").read_text())["epoch"] == 1  # Patrini's rule
    summary, record, output = _corrected(root, run, "noisy_val_loss", capsys)
    assert summary["estimator_epoch"] == record["estimator_epoch"] == 1
    assert "no better than chance" in summary["transition_estimate_warning"]
    assert summary["transition_estimate_warnings"] == record["transition_estimate_warnings"]
    # said when the run starts (stderr) and again in its end-of-run output
    assert output.count("WARNING: the estimator network") == 2
    assert {"transition_diag_mean", "transition_condition", "estimator_val_acc"} <= summary.keys()


@pytest.mark.slow
def test_a_t_from_the_best_validation_network_is_not_flagged(estimator, capsys):
    root, run = estimator
    summary, record, output = _corrected(root, run, "best_val", capsys)
    assert summary["estimator_epoch"] > 1 and record["estimator_val_acc"] > 0.15
    assert summary["transition_estimate_warnings"] == [] and "WARNING" not in output


SWEEP = """
    name: estimated
    table: 12
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform, noise.fraction=0.4,
             device=cpu]
    columns:
      Digits/40%: []
    rows:
      One-hot: [method=baseline]
      Forward (estimated T):
        overrides: [method=loss_correction, method.transition=estimated, method.estimate_at=noisy_val_loss]
        teacher: {row: One-hot}
"""


@pytest.mark.slow
def test_sweep_status_and_the_table_notes_show_the_estimated_t_and_its_warning_before_the_cells_spend(tmp_path):
    path = tmp_path / "estimated.yaml"
    path.write_text(textwrap.dedent(SWEEP))
    scale = Scale(epochs=2, subset=300, test_subset=100)
    out = tmp_path / "out"
    rows = {"rows": ["One-hot", "Forward (estimated T)"]}
    # the estimator alone has finished: status computes the T the estimated-T cell will read, before it starts
    run_sweep(path, output_root=out, scale=scale, only={"rows": ["One-hot"]}, extra_overrides=QUIET, report=str)
    status = render_status(sweep_status(path, output_root=out, only=rows))
    [line] = [x for x in status.splitlines() if x.startswith("Estimated T, Forward (estimated T) / Digits/40%")]
    assert "(not started; from its estimator)" in line and "estimator epoch 1 (noisy_val_loss rule)" in line
    assert "  WARNING: the estimator network" in status
    # trained: its own record, the same check, and the same lines under the table
    lines: list[str] = []
    plan = run_sweep(path, output_root=out, scale=scale, only=rows, extra_overrides=QUIET, report=lines.append)
    assert plan.failed == []
    done = next(i for i, x in enumerate(lines) if "(Forward (estimated T) |" in x and ": done in" in x)
    assert lines[done + 1].startswith("  WARNING: the estimator network")  # the executor's line for the run
    status = render_status(sweep_status(path, output_root=out, only=rows))
    [started] = [x for x in status.splitlines() if x.startswith("Estimated T, Forward (estimated T) / Digits/40%:")]
    assert started.split(": ", 1)[1] == line.split(": ", 1)[1]  # the run computed the T status had foreseen
    assert "diagonal mean" in started and "condition" in started and "  WARNING: the estimator network" in status
    notes = table_notes(load_sweep(path), expand_sweep(load_sweep(path), output_root=out, scale=scale), out)
    assert started in notes and any(n.startswith("  WARNING: the estimator network") for n in notes)
