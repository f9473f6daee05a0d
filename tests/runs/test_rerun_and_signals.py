"""Retraining on purpose (`repro train --rerun`: a new attempt beside the kept one), done runs from another commit,
and SIGTERM / SIGINT: one line, exit 143 / 130, status `interrupted`, resumable. The signal tests wait on events
(a file the run writes while it is held inside its second epoch), never on sleeps guessed from the machine's speed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from analysis.collect import collect_runs
from forked_repro import fork_repro
from presets import CLEAN
from repo_paths import REPO
from repro import train as train_module
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.attempts import attempts_dir, commit_note
from repro.runs.rundir import RunDir

RUN = [*CLEAN, "optim.epochs=2"]


def run_dir(out: Path) -> RunDir:
    return RunDir.for_config(to_container(load_config([*RUN, f"output_root={out}"])))


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_rerun_keeps_the_done_attempt_and_trains_a_new_one_that_tables_read(tmp_path, capsys, trained_runs):
    out = tmp_path / "out"
    argv = ["train", *RUN, f"output_root={out}"]
    rd = trained_runs.copy("baseline", out, preset="clean")  # the done run
    assert rd.path == run_dir(out).path
    first = hashes(rd.path)
    assert main([*argv, "--rerun"]) == 0
    assert "attempt 2" in capsys.readouterr().out
    kept = attempts_dir(rd) / "1"
    assert hashes(kept) == first  # the done attempt, whole and unchanged
    assert rd.is_done() and rd.read_summary() is not None and not rd.lock_file.exists()
    assert "attempt 2" in rd.log_file.read_text()
    assert main([*argv, "--rerun"]) == 0
    assert sorted(p.name for p in attempts_dir(rd).iterdir()) == ["1", "2"]
    assert hashes(kept) == first
    frame = collect_runs(out)  # tables and figures read the current attempt only: one row per run id
    assert list(frame["run_id"]) == [rd.run_id] and frame["path"].iloc[0] == str(rd.path)
    capsys.readouterr()
    assert main(argv) == 0  # without --rerun: done, nothing to do
    assert "already done" in capsys.readouterr().out


def test_a_done_run_from_another_commit_is_reported_when_skipped(tmp_path, capsys, trained_runs):
    out = tmp_path / "out"
    argv = ["train", *RUN, f"output_root={out}"]
    rd = trained_runs.copy("baseline", out, preset="clean")  # the done run
    assert rd.path == run_dir(out).path
    record = json.loads((rd.path / "provenance.json").read_text())
    if record.get("commit") is None:
        pytest.skip("not a git checkout: no commit to compare")
    assert commit_note(rd) is None
    record["sessions"][-1]["commit"] = record["commit"] = "0" * 40
    (rd.path / "provenance.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(argv) == 0
    out_text = capsys.readouterr().out
    assert "already done (made at commit 0000000000, the code is now at commit" in out_text
    assert "--rerun" in out_text


def _hold_in_the_second_epoch(held: Path) -> None:
    """Hold the run inside its second epoch (after the first epoch's checkpoint) until a signal comes; the file
    `held` tells the test that the run is there."""
    plain = train_module.run_epoch

    def run_epoch(exp, epoch, progress):
        if epoch == 1:
            held.touch()
            while True:
                time.sleep(0.05)
        return plain(exp, epoch, progress)

    train_module.run_epoch = run_epoch


# The same in a fresh interpreter: `python wrapper.py ARGS` is `repro ARGS`, held there; the file $HELD says so.
WRAPPER = textwrap.dedent("""
    import os, sys, time
    import repro.train as t
    plain = t.run_epoch

    def held(exp, epoch, progress):
        if epoch == 1:
            open(os.environ["HELD"], "w").close()
            while True:
                time.sleep(0.05)
        return plain(exp, epoch, progress)

    t.run_epoch = held
    from repro.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _ctrl_c_as_in_a_terminal() -> None:
    """A shell's background job (`pytest ... &`, some CI runners) starts with SIGINT ignored, and Python keeps an
    ignored SIGINT; a terminal's foreground command has the default, which is what the test is about."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_held(command: list[str], tmp_path: Path, held: Path, fresh_interpreter: bool) -> tuple[object, Path]:
    """`repro COMMAND` held inside its second epoch: in a fresh interpreter (its own start and shutdown included),
    or forked from this process (tests/forked_repro.py: the same command without paying torch's import again)."""
    err = tmp_path / "stderr"
    if not fresh_interpreter:
        hold = lambda: _hold_in_the_second_epoch(held)  # noqa: E731
        return fork_repro(command, stdout=Path(os.devnull), stderr=err, prepare=hold), err
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HELD": str(held)}
    with open(err, "w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, str(wrapper), *command],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
    return proc, err


# Ctrl-C in a fresh interpreter, as from a terminal (Python's own SIGINT set-up and its shutdown included); SIGTERM,
# whose handler is the run's own, in children forked from this process (the same run, without torch's import again).
@pytest.mark.parametrize(
    "signum, code, multirun, fresh_interpreter",
    [(signal.SIGTERM, 143, False, False), (signal.SIGINT, 130, False, True), (signal.SIGTERM, 143, True, False)],
    ids=["SIGTERM", "SIGINT", "SIGTERM in train -m"],
)
@pytest.mark.slow
def test_a_signal_ends_the_run_in_one_line_and_it_resumes(tmp_path, signum, code, multirun, fresh_interpreter):
    out, held = tmp_path / "out", tmp_path / "held"
    command = ["train", *(["-m"] if multirun else []), *RUN, f"output_root={out}"]
    proc, stderr = _start_held(command, tmp_path, held, fresh_interpreter)
    try:
        while not held.exists():
            assert proc.poll() is None, stderr.read_text()
            time.sleep(0.05)
        proc.send_signal(signum)
        assert proc.wait(timeout=300) == code
    finally:
        if proc.poll() is None:
            proc.kill()
    err = stderr.read_text()
    assert len(err.strip().splitlines()) == 1 and err.startswith("interrupted") and "Traceback" not in err, err
    rd = run_dir(out)
    status = rd.read_status()
    assert status["state"] == "interrupted" and status["epoch"] == 1, status
    assert rd.checkpoint_file.exists() and not rd.is_done() and not rd.lock_file.exists()
    assert main(command) == 0  # the same command resumes from the first epoch's checkpoint
    assert rd.is_done() and "resumed from checkpoint at epoch 1" in rd.log_file.read_text()
    assert [r["epoch"] for r in rd.read_metrics()] == [1, 2]


def test_tables_from_wandb_read_the_latest_attempt_of_each_run():
    from analysis.wandb_source import latest_attempts

    records = [
        {"run_id": "r-1", "summary": {"a": 1}},
        {"run_id": "r-1-attempt3", "summary": {"a": 3}},
        {"run_id": "r-1-attempt2", "summary": {"a": 2}},
        {"run_id": "s-2", "summary": {"a": 9}},
    ]
    assert latest_attempts(records) == [{"run_id": "r-1", "summary": {"a": 3}}, {"run_id": "s-2", "summary": {"a": 9}}]


def test_sweeps_say_which_skipped_done_runs_come_from_another_commit(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["train", "-m", "seed=0,1", *RUN, f"output_root={out}"]
    assert main(argv) == 0
    ids = sorted(p.name for p in (out / "runs").iterdir())
    record = json.loads((out / "runs" / ids[0] / "provenance.json").read_text())
    if record.get("commit") is None:
        pytest.skip("not a git checkout: no commit to compare")
    record["sessions"][-1]["commit"] = record["commit"] = "0" * 40
    (out / "runs" / ids[0] / "provenance.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"run {ids[0]} is done (made at commit 0000000000" in text and ids[1] not in text.split("skipped")[0]
    assert "every run is done" in text
