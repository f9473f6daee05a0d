"""What a sweep submits, before any run trains: the plan's idempotence rules (the job registry and SLURM's answers,
faked), two sweeps at once submitting each run once, `repro sweep --dry-run` and `repro sweep status`, and the
refusals that happen before anything is submitted."""

from __future__ import annotations

import json
import os
import threading
from functools import partial
from pathlib import Path

import pytest

from presets import TINY_SWEEP_SCALE, write_tiny_sweep
from repo_paths import REPO
from repro.cli import main
from repro.errors import UserError
from repro.sweep.executors.slurm import cluster
from repro.sweep.executors.slurm.job_states import job_states
from repro.sweep.executors.slurm.registry import JobRecord, Registry
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.plan import make_plan
from repro.sweep.run import run_sweep
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir

SCALE = TINY_SWEEP_SCALE  # TINY_SWEEP: a plain row and a learned row (2 folds + a final replay), one epoch: 4 runs
HANG_GUARD_S = 600  # waits end on events; this bound only turns a hang into a failure


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_tiny_sweep(tmp_path)


def test_plan_leaves_queued_jobs_alone_and_resubmits_vanished_ones(tiny, tmp_path, monkeypatch):
    """The registry + SLURM's answer decide: queued/running -> not submitted; gone or failed -> submitted again."""
    out = tmp_path / "out"
    spec = load_sweep(tiny)
    runs = expand_sweep(spec, output_root=out, scale=SCALE)
    ids = [r.run_id for r in runs]
    registry = Registry(sweep_dir(out, "tiny") / "jobs.json")
    for i, rid in enumerate(ids):
        registry.add(JobRecord(run_id=rid, job_id=f"7_{i}", stage="x", stderr=f"/logs/7_{i}.err"))
    registry.save()
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {"7_0": "RUNNING", "7_1": "PENDING"})
    monkeypatch.setattr(cluster, "finished_states", lambda ids_: {"7_2": "TIMEOUT"})
    slurm = partial(job_states, out)  # what the SLURM executor reports to the plan
    plan = make_plan(spec, runs, out, job_states=slurm)
    states = [plan.status[rid].state for rid in ids]
    assert states == ["running", "pending", "failed", "failed"]
    assert plan.status[ids[2]].detail == "job TIMEOUT" and "vanished" in plan.status[ids[3]].detail
    assert [r.run_id for r in plan.to_submit] == ids[2:]
    table = plan.runs_table()
    assert "/logs/7_2.err" in table and "/logs/7_0.err" not in table  # logs shown for failed runs only
    # another sweep's registry counts too (tables share runs), and the newest submission wins
    other = Registry(sweep_dir(out, "other") / "jobs.json")
    other.add(JobRecord(run_id=ids[3], job_id="9_0", stage="x", submitted=registry.latest(ids[3]).submitted + 1))
    other.save()
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {"7_0": "RUNNING", "7_1": "PENDING", "9_0": "PENDING"})
    assert make_plan(spec, runs, out, job_states=slurm).status[ids[3]].state == "pending"
    # SLURM unreachable: such runs are `unknown`, never resubmitted (or an error when SLURM is required)

    def unreachable():
        raise cluster.SlurmUnavailable("no controller")

    monkeypatch.setattr(cluster, "queued_jobs", unreachable)
    plan = make_plan(spec, runs, out, job_states=slurm)
    assert {plan.status[rid].state for rid in ids} == {"unknown"} and plan.to_submit == []
    with pytest.raises(UserError, match="no controller"):
        make_plan(spec, runs, out, job_states=partial(job_states, out, required=True))


def test_slurm_executor_refuses_cleanly_without_slurm(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "out"
    with pytest.raises(UserError, match="`sinfo` is not on PATH"):
        run_sweep(
            tiny,
            output_root=out,
            executor="slurm",
            profile=REPO / "slurm" / "profiles" / "local.yaml",
            scale=SCALE,
            report=lambda s: None,
        )
    assert not (out / "sweeps").exists() and not (out / "runs").exists()
    with pytest.raises(UserError, match="needs a cluster profile"):
        run_sweep(tiny, output_root=out, executor="slurm", report=lambda s: None)


@pytest.mark.slow
def test_cli_dry_run_status_and_refusals(tiny, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["sweep", str(tiny), "--output-root", out, "--dry-run", "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert "sweep tiny: 4 runs" in text and "to submit" in text and "Ours (Class)" in text
    assert not (tmp_path / "out").exists()  # a dry run writes nothing

    assert main(["sweep", "status", str(tiny), "--output-root", out, "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert text.count(" new") == 4 and "fold 1" in text

    needs = tmp_path / "needs.yaml"
    needs.write_text(
        tiny.read_text().replace(
            "  Baseline: [method=baseline]", '  Baseline: [method=baseline]\n  Later: {needs: "a method"}'
        )
    )
    assert main(["sweep", str(needs), "--dry-run"]) == 2
    assert "cannot run with the methods that exist" in capsys.readouterr().err
    assert main(["sweep", str(REPO / "sweeps" / "table4.yaml"), "--dry-run", "--output-root", out]) == 0
    text = capsys.readouterr().out
    assert "sweep table4: 248 runs" in text and "teachers from other tables: 60 runs" in text
    assert "teacher -> tuning runs -> reported run" in text and "41 runs (0 done)" in text
    assert "tuning stage" in text and "3 single" in text
    for n in (1, 2, 3, 6, 7, 8):  # every table that tunes shows its tuning runs, what waits for them, their cost
        assert main(["sweep", str(REPO / "sweeps" / f"table{n}.yaml"), "--dry-run", "--output-root", out]) == 0
        text = capsys.readouterr().out
        # 24 or 32 grid points on one seed; the noisy tables (6, 7) on two seeds: 64
        assert "tuning stage" in text and any(f"{k} runs (0 done)" in text for k in (24, 32, 64)), n
        # every run priced (repro/sweep/budget/costs.py)
        assert "\ntune " in text and "no per-step figure" not in text, n
        assert ("15 fold, 3 final" in text) == (n in (1, 2, 3, 8)), n
    assert (
        main(["sweep", str(REPO / "sweeps" / "table5.yaml"), "--rows", "Baseline", "--dry-run", "--output-root", out])
        == 0
    )
    assert "sweep table5: 9 runs" in capsys.readouterr().out
    assert main(["sweep", str(tiny), "--rows", "Nope"]) == 2
    assert "no row 'Nope'" in capsys.readouterr().err
    assert main(["sweep", str(tiny), "oops"]) == 2
    assert "not an override" in capsys.readouterr().err


def test_two_sweeps_at_once_submit_each_run_once(tiny, tmp_path, monkeypatch):
    """Two `repro sweep --executor slurm` on the same file and output root at once (SLURM faked): the registry is
    read and updated under the output root's sweep lock, so the second waits, then reports the first's jobs."""
    from repro.sweep.executors.slurm.registry import latest_jobs

    out = (tmp_path / "out").resolve()
    submitted: list[str] = []
    second_waits = threading.Event()

    def fake_submit(runs, *, name, output_root, **kw):
        registry = Registry.load(sweep_dir(output_root, name) / "jobs.json")
        if not submitted:  # the first command submits only once the second is waiting for the lock (an event)
            assert second_waits.wait(HANG_GUARD_S), "the second command never waited for the lock"
        for i, run in enumerate(runs):
            registry.add(JobRecord(run_id=run.run_id, job_id=f"{len(submitted)}_{i}", stage=run.stage))
            submitted.append(run.run_id)
        registry.save()
        return [r.run_id for r in runs]

    monkeypatch.setattr("repro.sweep.executors.slurm.submit.submit_runs", fake_submit)
    monkeypatch.setattr(cluster, "check_partition", lambda partition: None)
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {r.job_id: "PENDING" for r in latest_jobs(out).values()})
    monkeypatch.setattr(cluster, "finished_states", lambda ids: {})
    reports: list[list[str]] = [[], []]

    def sweep(i: int) -> None:
        def report(line: str) -> None:
            reports[i].append(line)
            if "waiting for it to finish" in line:
                second_waits.set()

        run_sweep(
            tiny,
            output_root=out,
            executor="slurm",
            profile=REPO / "slurm/profiles/local.yaml",
            scale=SCALE,
            report=report,
        )

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(submitted) == 4 and len(set(submitted)) == 4
    texts = ["\n".join(r) for r in reports]
    second = texts[0] if "waiting for it" in texts[0] else texts[1]  # whichever came second
    assert "waiting for it to finish" in second and "the other `repro sweep` submitted 4 run(s)" in second
    assert "nothing to submit" in second
    assert not (out / "sweeps" / "submit.lock").exists()


def test_registry_survives_only_valid_json(tmp_path):
    path = tmp_path / "jobs.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="cannot be read"):
        Registry.load(path)
    registry = Registry(path)
    registry.add(JobRecord(run_id="r", job_id="1_0", stage="fold", after=("0_1",)))
    registry.save()
    again = Registry.load(path)
    assert again.latest("r") == registry.latest("r")
    assert json.loads(path.read_text())["version"] == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
