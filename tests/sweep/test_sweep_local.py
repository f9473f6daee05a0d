"""`repro sweep` with the local executor on the embedded digits data: folds before finals, each planned run trained
from its planned config, a failed run rerun from its checkpoint, a final whose fold failed skipped. The plan's rules
with SLURM's answers faked, `repro sweep status` and the refusals before anything is submitted:
test_sweep_submissions.py."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from presets import TINY_SWEEP, TINY_SWEEP_SCALE, write_tiny_sweep
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.status import sweep_status
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import read_planned_config, sweep_dir

SCALE = TINY_SWEEP_SCALE  # TINY_SWEEP: a plain row and a learned row (2 folds + a final replay), one epoch: 4 runs


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_tiny_sweep(tmp_path)


def mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted((root / "runs").rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_local_sweep_runs_folds_before_finals_then_submits_nothing(tiny, tmp_path):
    out = tmp_path / "out"
    lines: list[str] = []
    plan = run_sweep(tiny, output_root=out, scale=SCALE, report=lines.append)
    finals = [r for r in plan.unique.values() if r.stage == "final"]
    assert len(plan.unique) == 4 and len(finals) == 1
    assert set(plan.submitted) == set(plan.unique) and plan.failed == []
    assert plan.counts() == {"done": 4}
    # progress lines, in order: the two folds finished before the final started
    started = [line for line in lines if line.endswith(": training")]
    assert len(started) == 4
    order = [next(r.stage for r in plan.unique.values() if r.run_id in line) for line in started]
    assert order.index("final") > max(i for i, s in enumerate(order) if s == "fold")
    assert any("done in" in line and "final_test_acc = " in line for line in lines)
    for rid in plan.unique:
        summary = RunDir(out / "runs" / rid).read_summary()
        assert summary is not None and summary["epochs"] == 1
    final_log = RunDir(out / "runs" / finals[0].run_id).read_config()
    assert final_log["method"]["name"] == "replay" and final_log["sweep"] == {
        "name": "tiny",
        "stage": "final",
        "row": "Ours (Class)",
        "column": "Digits/SmallCNN",
    }

    before = mtimes(out)
    again = run_sweep(tiny, output_root=out, scale=SCALE, report=lines.append)
    assert again.submitted == [] and again.to_submit == []
    assert lines[-1] == "nothing to submit: every run is done"
    assert mtimes(out) == before  # nothing finished is ever touched

    # status remembers the scale this sweep ran with
    status = sweep_status(tiny, output_root=out)
    assert set(status.unique) == set(plan.unique) and status.counts() == {"done": 4}


def test_a_planned_run_is_validated_once_and_trained_from_its_planned_config(tmp_path, monkeypatch):
    """A 2-job local sweep validates each run once, when it is planned; the job trains the resolved config written
    beside the plan (no recomposition from overrides, no second validation by the same code)."""
    import repro.config
    import repro.methods.registry

    calls: Counter = Counter()

    def count(module, name):
        real = getattr(module, name)

        def counted(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    count(repro.config, "validate_config")  # the one validation of a planned run
    count(repro.config, "load_config")  # composing and validating a run from its overrides
    count(repro.config, "check_method_config")  # the method's checks, where repro.config calls them ...
    count(repro.methods.registry, "check_method_config")  # ... and anywhere else
    path = tmp_path / "two.yaml"
    path.write_text(textwrap.dedent(TINY_SWEEP).replace("learn: [method=class_labels]", "[method=label_smoothing]"))
    out = tmp_path / "out"
    plan = run_sweep(path, output_root=out, scale=SCALE, report=lambda line: None)
    assert len(plan.unique) == 2 and plan.counts() == {"done": 2}
    assert calls == {"validate_config": 2, "check_method_config": 2}  # the method checked in its validation only
    for rid, run in plan.unique.items():
        planned = read_planned_config(sweep_dir(out, "tiny") / "planned" / f"{rid}.json")
        assert planned == run.config == RunDir(out.resolve() / "runs" / rid).read_config()


def test_a_failed_run_is_rerun_and_resumes_from_its_checkpoint(tiny, tmp_path):
    out = tmp_path / "out"
    plan = run_sweep(tiny, output_root=out, scale=SCALE, only={"rows": ["Baseline"]}, report=lambda s: None)
    (rid,) = plan.unique
    rd = RunDir(out / "runs" / rid)
    summary = rd.read_summary()
    # pretend the run was killed after its last checkpoint but before its summary
    rd.summary_file.unlink()
    rd.write_status("interrupted", epoch=1, message="killed")
    plan = run_sweep(
        tiny, output_root=out, scale=SCALE, only={"rows": ["Baseline"]}, dry_run=True, report=lambda s: None
    )
    assert plan.status[rid].state == "interrupted" and [r.run_id for r in plan.to_submit] == [rid]
    plan = run_sweep(tiny, output_root=out, scale=SCALE, only={"rows": ["Baseline"]}, report=lambda s: None)
    assert plan.submitted == [rid] and plan.counts() == {"done": 1}
    assert "resumed from checkpoint at epoch 1" in rd.log_file.read_text()
    assert rd.read_summary() == summary


@pytest.mark.slow
def test_a_final_whose_fold_failed_is_skipped_and_reported(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    runs = expand_sweep(load_sweep(tiny), output_root=out.resolve(), scale=SCALE)
    fold0 = next(r for r in runs if r.stage == "fold")
    final = next(r for r in runs if r.stage == "final")
    # fold 0 cannot start: a damaged checkpoint (train refuses it with a UserError and leaves it untouched)
    rd = RunDir(out / "runs" / fold0.run_id)
    rd.path.mkdir(parents=True)
    rd.checkpoint_file.write_bytes(b"not a checkpoint")
    lines: list[str] = []
    plan = run_sweep(tiny, output_root=out, scale=SCALE, only={"rows": ["Ours (Class)"]}, report=lines.append)
    assert plan.failed == [fold0.run_id, final.run_id]
    assert any("failed" in line and "cannot be read" in line and fold0.run_id in line for line in lines)
    assert any("skipped, 1 of the runs it depends on did not finish" in line and final.run_id in line for line in lines)
    assert plan.counts() == {"done": 1, "new": 2}  # fold 1 done; fold 0 never ran; the final waits
    assert rd.checkpoint_file.read_bytes() == b"not a checkpoint"
    assert (
        main(
            [
                "sweep",
                str(tiny),
                "--output-root",
                str(out),
                "--epochs",
                "1",
                "--subset",
                "400",
                "--test-subset",
                "200",
                "--rows",
                "Ours (Class)",
                "--jobs",
                "1",
            ]
        )
        == 1
    )
    # the damaged file moved aside, the same command finishes the sweep
    rd.checkpoint_file.rename(rd.path / "checkpoint.pt.bad")
    plan = run_sweep(tiny, output_root=out, scale=SCALE, only={"rows": ["Ours (Class)"]}, report=lines.append)
    assert plan.submitted == [fold0.run_id, final.run_id] and plan.counts() == {"done": 3}
