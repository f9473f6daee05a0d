"""Runs survive kill -9 at any moment: a training run is SIGKILLed at seeded random points (inside a step, while the
checkpoint is written, while a label-trajectory file is written), restarted each time, and ends with the final
metrics, checkpoint and label trajectory of an uninterrupted run, with no temp file left. A full disk during a
checkpoint write keeps the previous checkpoint loadable and the run resumable.

Each kill restarts a Python process that imports torch (seconds): `make test` kills at 3 points drawn from the five
kinds below. REPRO_TEST_KILL9_POINTS=N kills at N points (the kinds repeat past six; the run gets N epochs past
four) and REPRO_TEST_KILL9_SEED draws other points, e.g.
`REPRO_TEST_KILL9_POINTS=12 REPRO_TEST_KILL9_SEED=3 pytest tests/runs/test_kill9.py`."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from presets import QUIET
from repo_paths import REPO
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from resume_check import EXACT, torch_flags_kept

# EXACT: on a GPU, deterministic kernels (each restart is a new process; the bits must still agree)
POINTS = int(os.environ.get("REPRO_TEST_KILL9_POINTS", "3"))
SEED = int(os.environ.get("REPRO_TEST_KILL9_SEED", "10"))
RUN = [
    "data.subset=400",
    "data.test_subset=200",
    f"optim.epochs={max(4, POINTS)}",
    "method=instance_labels",
    *QUIET,
    "method.record.snapshot_epochs=[1,3,-1]",
    *EXACT,
]
# Runs `repro` with every atomic write reported to $WRITES (the file name, once its temp file is written and before
# the rename) and held there $HOLD_S seconds: the window in which the test kills a write. An appended label record
# (repro/runs/npy_log.py) is reported and held the same way between its data and the header that counts it.
WRAPPER = textwrap.dedent("""
    import contextlib, os, sys, time
    import repro.runs.io as rio
    plain = rio.atomic_output

    @contextlib.contextmanager
    def reported(path):
        with plain(path) as tmp:
            yield tmp
            with open(os.environ["WRITES"], "a") as f:
                f.write(os.fspath(path) + "\\n")
            time.sleep(float(os.environ["HOLD_S"]))

    rio.atomic_output = reported

    import repro.runs.npy_log as nlog
    plain_count = nlog.NpyLog._set_count

    def reported_count(self, f, count):
        with open(os.environ["WRITES"], "a") as w:
            w.write(os.fspath(self.path) + "\\n")
        time.sleep(float(os.environ["HOLD_S"]))
        plain_count(self, f, count)

    nlog.NpyLog._set_count = reported_count
    from repro.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def start(tmp_path: Path, out: Path, hold_s: float) -> tuple[subprocess.Popen, Path]:
    wrapper, writes = tmp_path / "wrapper.py", tmp_path / "writes.txt"
    wrapper.write_text(WRAPPER)
    writes.write_text("")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "WRITES": str(writes), "HOLD_S": str(hold_s)}
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), "train", *RUN, f"output_root={out}"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, writes


def kill_when(proc: subprocess.Popen, writes: Path, what: str, nth: int, delay: float) -> bool:
    """SIGKILL `proc` `delay` seconds after its nth write of a file whose path contains `what` (status.json + a
    delay: inside a training step; with a held write: inside that write). False if the run finished first."""
    while proc.poll() is None:
        hits = [line for line in writes.read_text().splitlines() if what in line]
        if len(hits) >= nth:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    return False


def comparable_metrics(rd: RunDir) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rd.read_metrics()]


def assert_same_tensors(a, b, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            if k != "seconds":
                assert_same_tensors(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
@pytest.mark.e2e
def test_kill_9_at_random_points_ends_like_an_uninterrupted_run(tmp_path):
    ref_out, out = tmp_path / "ref", tmp_path / "killed"
    proc, _ = start(tmp_path, ref_out, hold_s=0.0)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    rng = random.Random(SEED)
    # (file, delay after its first write, seconds each write is held open): status.json is written when an epoch
    # starts and ends, so a delay after it lands inside a step; a held write is killed between write and rename.
    # Each kill lets the run advance at most about one epoch (first such write of each process), so every kill
    # lands before the max(4, POINTS) epochs are done, whatever the machine's speed.
    kinds = [
        ("status.json", (0.02, 0.15), 0.0),
        ("checkpoint.pt", (0, 0.2), 0.3),
        ("labels/topk", (0, 0.2), 0.3),
        ("metrics.jsonl", (0, 0.2), 0.3),
        ("snapshots", (0, 0.2), 0.3),
    ]
    # inside a step, then the held writes in a random order, repeating past five: the default 3 points are a step
    # and two different writes; 6 are the full set the test once always ran
    order = [kinds[0], *rng.sample(kinds[1:], len(kinds) - 1)]
    drawn = [order[i % len(order)] for i in range(POINTS)]
    plan = [(what, 1, rng.uniform(*delays), hold_s) for what, delays, hold_s in drawn]
    rng.shuffle(plan)
    kills = 0
    for what, nth, delay, hold_s in plan:
        proc, writes = start(tmp_path, out, hold_s=hold_s)
        kills += kill_when(proc, writes, what, nth, delay)
        proc.stderr.close()
    proc, _ = start(tmp_path, out, hold_s=0.0)
    code, err = proc.wait(timeout=600), proc.stderr.read()
    assert code == 0, err
    assert kills == len(plan), "a kill did not land before the run finished"

    ref = RunDir.for_config(to_container(load_config([*RUN, f"output_root={ref_out}"])))
    rd = RunDir(out / "runs" / ref.run_id)
    assert comparable_metrics(rd) == comparable_metrics(ref)
    assert_same_tensors(
        torch.load(rd.checkpoint_file, weights_only=True),
        torch.load(ref.checkpoint_file, weights_only=True),
        "checkpoint",
    )
    assert files_under(rd.labels_dir) == files_under(ref.labels_dir)
    summary, ref_summary = rd.read_summary(), ref.read_summary()
    assert {k: v for k, v in summary.items() if k != "seconds"} == {
        k: v for k, v in ref_summary.items() if k != "seconds"
    }
    leftovers = [p for p in rd.path.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == [] and not rd.lock_file.exists()
    assert "took over the lock" in rd.log_file.read_text()


@pytest.mark.slow
def test_full_disk_during_a_checkpoint_keeps_the_previous_one_and_the_run_resumes(tmp_path, monkeypatch, capsys):
    with torch_flags_kept():
        _full_disk_during_a_checkpoint(tmp_path, monkeypatch, capsys)


def _full_disk_during_a_checkpoint(tmp_path, monkeypatch, capsys):
    overrides = [
        "data.subset=300",
        "data.test_subset=100",
        "optim.epochs=2",
        *QUIET,
        f"output_root={tmp_path}",
        *EXACT,
    ]
    assert main(["train", *overrides]) == 0  # the uninterrupted reference
    ref = RunDir.for_config(to_container(load_config(overrides)))
    reference = comparable_metrics(ref)
    ref.path.rename(tmp_path / "reference")

    from repro.train import Interrupted, train

    cfg = load_config(overrides)
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    rd = RunDir.for_config(to_container(cfg))
    before = rd.checkpoint_file.read_bytes()
    real_write = Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:
        if self.name.startswith(".checkpoint.pt"):
            real_write(self, data[: len(data) // 2])  # half of it lands, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    code = main(["train", *overrides])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: No space left") and "Traceback" not in err
    assert rd.checkpoint_file.read_bytes() == before
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 1
    assert not [p for p in rd.path.rglob("*.tmp")] and not rd.lock_file.exists()
    monkeypatch.undo()
    assert main(["train", *overrides]) == 0
    assert comparable_metrics(rd) == reference
    assert json.loads(rd.status_file.read_text())["state"] == "done"
