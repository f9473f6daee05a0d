"""Another run's damaged record (repro/runs/records.py) as the planner meets it: a tuning run whose summary.json was cut
short is not done. `repro sweep status` shows it as damaged (exit 1), and `repro sweep` trains it again as a new
attempt (the damaged one kept byte for byte under attempts/) before the tuned runs that read it, with no traceback.
The consumers' own corpus cases (tuning winners, teacher, label source, estimator, replay's fold runs, a run's own
summary) are in tests/bad_input_cases.py."""

from __future__ import annotations

import shutil

import pytest

from repro.cli import main
from repro.runs.records import DAMAGED, DONE, MISSING, DamagedRecord, read_summary, summary_state
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep
from tuned_sweep import SCALE, SCALE_ARGS, write_tuned_sweep


@pytest.mark.slow
def test_a_damaged_tuning_summary_is_shown_and_trained_again_before_the_tuned_runs(tmp_path, capsys):
    path = write_tuned_sweep(tmp_path, "{method.label_lr: [0.3, 3]}")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--output-root", str(out), *SCALE_ARGS, "--jobs", "1"]) == 0
    runs = expand_sweep(load_sweep(path), output_root=out.resolve(), scale=SCALE)
    tuning = [RunDir(out / "runs" / r.run_id) for r in runs if r.stage == "tune"]
    tuned = [RunDir(out / "runs" / r.run_id) for r in runs if r.stage != "tune"]
    damaged = tuning[1]
    cut = damaged.summary_file.read_bytes()[:25]  # a disk full while it was copied
    damaged.summary_file.write_bytes(cut)
    for rd in tuned:  # the tuned runs are still to train when the damage is found
        shutil.rmtree(rd.path)
    assert summary_state(damaged)[0] == DAMAGED and summary_state(tuning[0]) == (DONE, "")
    assert summary_state(tuned[0]) == (MISSING, "")

    capsys.readouterr()
    assert main(["sweep", "status", str(path), "--output-root", str(out)]) == 1
    shown = capsys.readouterr().out
    line = next(x for x in shown.splitlines() if damaged.run_id in x)
    assert "damaged (summary.json unreadable" in line
    assert "1 damaged" in shown and f"{len(tuned) + 1} to submit" in shown

    assert main(["sweep", str(path), "--output-root", str(out), *SCALE_ARGS, "--jobs", "1"]) == 0
    trained = capsys.readouterr()
    assert "Traceback" not in trained.err
    assert trained.out.count(": done in") == len(tuned) + 1  # the damaged run and the tuned runs, nothing else
    assert read_summary(damaged)["final_val_acc"] >= 0
    kept = out / "attempts" / damaged.run_id / "1" / "summary.json"
    assert kept.read_bytes() == cut  # nothing already written is lost
    for rd in tuned:
        assert summary_state(rd) == (DONE, "")
    assert main(["sweep", "status", str(path), "--output-root", str(out)]) == 0


def test_a_summary_that_is_not_a_mapping_is_damaged(tmp_path):
    rd = RunDir(tmp_path / "runs" / "digits-smallcnn-baseline-0123456789")
    rd.path.mkdir(parents=True)
    rd.summary_file.write_text("[1, 2]\n")
    try:
        read_summary(rd, role="teacher run")
    except DamagedRecord as exc:
        assert "teacher run digits-smallcnn-baseline-0123456789 has a damaged summary.json" in str(exc)
        assert "repro train --rerun" in str(exc) and str(rd.path) in str(exc)
    else:
        raise AssertionError("a list summary was read as a summary")
