"""The estimated-T hold (repro/sweep/stages/estimated_t/) in a local sweep on tiny noisy digits: two estimated-T cells
read one estimator; the first trains, and its record decides the second. An estimator whose final epoch is inside its
lr warm-up gives a flagged T (repro/recorders/transition_check.py): the second is held, said in the sweep's output
and in `repro sweep status`, and released by `estimated_t: {accept: [...]}`; an unflagged record lets the second
train in the same command."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import repro.methods.estimated_transition as estimated_transition
from presets import QUIET_YAML
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

pytestmark = pytest.mark.slow

# Two epochs, both inside the estimator's warm-up: its final network's T is flagged whatever it learned.
SWEEP = """
    name: held_t
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform, noise.fraction=0.4,
             data.subset=300, data.test_subset=100, optim.epochs=2, device=cpu, {quiet}]
    columns:
      Digits/40%: []
    rows:
      One-hot: [method=baseline, optim.warmup_epochs=2]
      Forward (estimated T):
        overrides: [method=loss_correction, method.correction=forward, method.transition=estimated]
        teacher: {{row: One-hot}}
      Backward (estimated T):
        overrides: [method=loss_correction, method.correction=backward, method.transition=estimated]
        teacher: {{row: One-hot}}
"""


def _write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "held_t.yaml"
    path.write_text(textwrap.dedent(SWEEP.format(quiet=QUIET_YAML)) + textwrap.dedent(extra))
    return path


def _runs(path: Path, out: Path) -> dict[str, RunDir]:
    return {r.row: RunDir(out / "runs" / r.run_id) for r in expand_sweep(load_sweep(path), output_root=out.resolve())}


def _sweep(path: Path, out: Path) -> int:
    return main(["sweep", str(path), "--output-root", str(out), "--jobs", "1"])


def test_a_flagged_first_estimate_holds_the_second_until_accepted(tmp_path, capsys):
    path, out = _write(tmp_path), tmp_path / "out"
    assert _sweep(path, out) == 4  # a hold's exit status, the same as the baseline gate's
    text = capsys.readouterr().out
    runs = _runs(path, out)
    assert runs["One-hot"].is_done() and runs["Forward (estimated T)"].is_done()
    assert not runs["Backward (estimated T)"].path.exists()  # held: nothing of it trained
    [held] = [x for x in text.splitlines() if x.startswith("HELD by the estimated-T check")]
    assert "inside its lr warm-up" in held and f"recorded by run {runs['Forward (estimated T)'].run_id}" in held
    accept = f"estimated_t: {{accept: [{runs['One-hot'].run_id}]}}"
    assert accept in held
    assert main(["sweep", "status", str(path), "--output-root", str(out)]) == 4
    status = capsys.readouterr().out
    assert "held (its estimated T is flagged" in status and "HELD by the estimated-T check" in status

    # accepted in the sweep file: the second trains, and the sweep says why it went on
    path = _write(tmp_path, accept + "\n")
    assert _sweep(path, out) == 0
    text = capsys.readouterr().out
    assert runs["Backward (estimated T)"].is_done() and "are accepted in the sweep file" in text
    assert "inside its lr warm-up" in " ".join(
        runs["Backward (estimated T)"].read_summary()["transition_estimate_warnings"]
    )


def test_an_unflagged_first_estimate_lets_the_second_train_in_the_same_command(tmp_path, capsys, monkeypatch):
    def unflagged(*args, **kwargs):  # the seam: the check's record, its warnings dropped
        return {**flagged(*args, **kwargs), "transition_estimate_warnings": [], "transition_estimate_warning": ""}

    flagged = estimated_transition.estimate_record
    monkeypatch.setattr(estimated_transition, "estimate_record", unflagged)
    path, out = _write(tmp_path), tmp_path / "out"
    assert _sweep(path, out) == 0  # --jobs 1 trains here, in this process
    text = capsys.readouterr().out
    runs = _runs(path, out)
    assert all(rd.is_done() for rd in runs.values())
    forward, backward = (
        f"{runs[row].run_id} ({row} | Digits/40% | seed 0)"
        for row in ("Forward (estimated T)", "Backward (estimated T)")
    )
    waited = text.index("Estimated T: 1 run(s) wait for the first run")  # said when the sweep is planned
    # the second trained in a later round of this command, after the first had recorded its T
    assert waited < text.index(f"{forward}: done") < text.index(f"{backward}: training") and "HELD" not in text
