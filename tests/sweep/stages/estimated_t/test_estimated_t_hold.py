"""The estimated-T hold (repro/sweep/stages/estimated_t/): in a sweep, the runs of an estimated T wait for the first of
them to record it; a flagged record keeps them held (and what waits for them) with a paragraph saying what was
flagged, by which run, and how to release them; an unflagged or accepted one releases them. Here from fabricated
records (repro/recorders/transition_check.py writes them when a run builds its T); trained end to end on digits in
test_estimated_t_sweep.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from presets import QUIET_YAML
from repro.cli import main
from repro.data.noise import transition_matrix
from repro.errors import UserError
from repro.recorders.transition_check import write_record
from repro.recorders.transition_record import estimate_record
from repro.sweep.ask_stages import decided
from repro.sweep.plan import Plan, RunStatus
from repro.sweep.spec.model import Scale
from repro.sweep.stages.estimated_t import estimate_hold
from repro.sweep.stages.estimated_t.estimate_hold import _some
from repro.sweep.status import render_status
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep

SWEEP = """
    name: held_t
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform, noise.fraction=0.4,
             data.subset=300, data.test_subset=100, optim.epochs=2, device=cpu, {quiet}]
    columns:
      Digits/40%: []
    rows:
      One-hot: [method=baseline]
      Forward (estimated T):
        overrides: [method=loss_correction, method.correction=forward, method.transition=estimated]
        teacher: {{row: One-hot}}
      Backward (estimated T):
        overrides: [method=loss_correction, method.correction=backward, method.transition=estimated]
        teacher: {{row: One-hot}}
      Forward (known T): [method=loss_correction, method.correction=forward]
      Forward (estimated T, tuned):
        overrides: [method=loss_correction, method.correction=forward, method.transition=estimated,
                    method.anchor_percentile=90]
        teacher: {{row: One-hot}}
        tune: {{grid: {{optim.lr: [0.05, 0.1]}}, select: final_val_acc}}
"""
TRUE_T = transition_matrix({"kind": "uniform", "fraction": 0.4}, 10, dtype=torch.float64)
NEAR_UNIFORM_T = 0.02 * torch.eye(10, dtype=torch.float64) + 0.098


def _write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "held_t.yaml"
    path.write_text(textwrap.dedent(SWEEP.format(quiet=QUIET_YAML)) + textwrap.dedent(extra))
    return path


def _plan(path: Path, out: Path, scale: Scale | None = None) -> tuple[Plan, str]:
    plan = plan_sweep(load_sweep(path), output_root=out, scale=scale)
    return plan, "\n".join(decided(plan))


def _ids(plan: Plan) -> dict[str, str]:
    return {run.row: rid for rid, run in plan.unique.items() if run.stage == "single"}


def _state(plan: Plan, row: str) -> str:
    return plan.status[_ids(plan)[row]].state


def _held_rows(plan: Plan) -> set[str]:
    return {run.row for rid, run in plan.unique.items() if plan.status[rid].state == "held"}


TUNED = "Forward (estimated T, tuned)"  # estimates of its own, waiting throughout


def _record(plan: Plan, row: str, t: torch.Tensor, **given) -> None:
    """The record a run writes before its first epoch (flagged or not, by what it is given)."""
    given = {"epoch": 4, "noisy_val_loss": 3.06, "val_acc": 0.9, "warmup_epochs": 0, **given}
    estimator = _ids(plan)["One-hot"]
    record = estimate_record(t, estimator_run=estimator, estimate_at="final", **given)
    path = plan.output_root / "runs" / _ids(plan)[row]
    path.mkdir(parents=True, exist_ok=True)
    write_record(path, record)


def test_the_first_run_of_an_estimate_goes_and_the_others_wait_for_its_record(tmp_path):
    plan, text = _plan(_write(tmp_path), tmp_path / "out")
    ids = _ids(plan)
    assert _state(plan, "Forward (estimated T)") == "new"  # the first run of the estimate
    assert _state(plan, "Backward (estimated T)") == "held"  # the same T: waits for its record
    assert ids["Forward (estimated T)"] in plan.status[ids["Backward (estimated T)"]].detail
    # tuning runs train on their own split: another estimate, whose first run goes; the tuned run waits for them
    tuned = [rid for rid, r in plan.unique.items() if r.row == TUNED]
    assert [plan.status[rid].state for rid in tuned] == ["new", "held", "held"]
    assert "held by the estimated-T hold" in plan.status[tuned[2]].detail
    assert _state(plan, "Forward (known T)") == "new" and _state(plan, "One-hot") == "new"  # no estimated T
    assert "Estimated T: 2 run(s) wait for the first run" in text and ids["Forward (estimated T)"] in text
    assert f"1 more run(s) wait for runs held here ({tuned[2]})" in text
    assert "3 held by a stage" in plan.describe()


def test_a_flagged_record_holds_with_what_which_run_and_how_to_release(tmp_path):
    path, out = _write(tmp_path), tmp_path / "out"
    plan, _ = _plan(path, out)
    _record(plan, "Forward (estimated T)", NEAR_UNIFORM_T, epoch=1, noisy_val_loss=2.319, val_acc=0.117)
    plan, text = _plan(path, out)
    ids = _ids(plan)
    assert _state(plan, "Backward (estimated T)") == "held"
    assert "flagged" in plan.status[ids["Backward (estimated T)"]].detail
    [paragraph] = [x for x in text.splitlines() if x.startswith("HELD by the estimated-T check")]
    assert "no better than chance" in paragraph and "near uniform" in paragraph  # what was flagged
    assert f"recorded by run {ids['Forward (estimated T)']} (Forward (estimated T) / Digits/40%" in paragraph
    assert f"estimated_t: {{accept: [{ids['One-hot']}]}}" in paragraph and str(path) in paragraph  # how to release
    assert "method.estimate_at=best_val" in paragraph
    status = render_status(plan_sweep(load_sweep(path), output_root=out))
    assert "HELD by the estimated-T check" in status and "held (its estimated T is flagged" in status

    # accepted in the sweep file: released, and said so
    accepted = _write(tmp_path, f"estimated_t: {{accept: [{ids['One-hot']}]}}\n")
    plan, text = _plan(accepted, out)
    assert _held_rows(plan) == {TUNED}
    assert "are accepted in the sweep file (estimated_t.accept)" in text and "HELD" not in text

    # a scaled sweep (a preview: runs of its own) is not held; its flags are still said
    scaled, _ = _plan(path, out, Scale(epochs=1))
    _record(scaled, "Forward (estimated T)", NEAR_UNIFORM_T, epoch=1, noisy_val_loss=2.319, val_acc=0.117)
    plan, text = _plan(path, out, Scale(epochs=1))
    assert _held_rows(plan) == set()
    assert "not held: the runs are scaled (optim.epochs=1)" in text


def test_an_unflagged_record_releases_every_run_of_its_estimate(tmp_path):
    path, out = _write(tmp_path), tmp_path / "out"
    plan, _ = _plan(path, out)
    _record(plan, "Forward (estimated T)", TRUE_T)
    plan, text = _plan(path, out)
    assert _held_rows(plan) == {TUNED} and "HELD" not in text and "Estimated T: 1 run(s) wait" in text


def test_the_dry_run_reports_the_hold(tmp_path, capsys):
    path = _write(tmp_path)
    assert main(["sweep", str(path), "--dry-run", "--output-root", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "3 held by a stage" in text and "Estimated T: 2 run(s) wait for the first run" in text


def test_a_bad_estimated_t_key_is_refused_with_the_key(tmp_path):
    with pytest.raises(UserError, match="estimated_t"):
        load_sweep(_write(tmp_path, "estimated_t: {accept: 3}\n"))


def test_a_hold_over_many_runs_names_three_and_counts_the_rest():
    """A table's hold names its first runs and a count, not hundreds of ids (`repro sweep status` lists them all)."""
    assert _some([f"r{i}" for i in range(250)]) == "r0, r1, r2 and 247 more"
    assert _some(["a", "b"]) == "a, b"


def test_a_sweep_with_nothing_left_to_submit_asks_no_method_for_its_estimates(tmp_path, monkeypatch):
    """The report of a finished sweep (`repro tables`, `repro ledger`) asks no method class, a torch module, for the
    estimate its runs built: nothing is left to hold."""
    plan, _ = _plan(_write(tmp_path), tmp_path / "out")
    assert estimate_hold.plan_estimates(plan)  # the sweep has estimates: with runs left, they are asked for
    for rid in plan.status:
        plan.status[rid] = RunStatus("done")
    monkeypatch.setattr(estimate_hold, "plan_estimates", lambda plan: pytest.fail("a finished plan was asked"))
    assert estimate_hold.hold_estimates(plan, None) == estimate_hold.Held()
