"""provenance.json: what a run ran on, one session per process that worked on it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest
import torch

from presets import CLEAN
from repro.checkout import CHECKOUT_ROOT
from repro.config import load_config
from repro.runs import provenance
from repro.train import Interrupted, train

FAST = ["optim.epochs=2", *CLEAN, "device=cpu"]


def test_a_run_records_commit_versions_device_host_slurm_and_times(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    cfg = load_config([*FAST, f"output_root={tmp_path}"])
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    result = train(cfg)
    record = provenance.read(result.run_dir.path)
    assert len(record["sessions"]) == 2  # the interrupted process and the one that resumed
    assert [s["state"] for s in record["sessions"]] == ["interrupted", "done"]
    assert record["state"] == "done" and record["ended"] >= record["first_started"]
    assert record["slurm"] == {"SLURM_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": "3"}
    assert record["versions"]["torch"] and record["versions"]["python"]
    assert record["device"] == "cpu" and record["hardware"]["precision"] == "fp32"
    assert record["host"] and isinstance(record["argv"], list)
    head = subprocess.run(["git", "-C", str(CHECKOUT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert record["commit"] == head.stdout.strip() and isinstance(record["dirty"], bool)


def test_outside_a_git_checkout_the_commit_is_null(tmp_path):
    assert provenance.git_state(tmp_path) == {"commit": None, "dirty": None}


def test_the_checkout_root_is_the_checkout_that_holds_the_package():
    assert (CHECKOUT_ROOT / "repro" / "runs" / "provenance.py").is_file()


def test_a_folder_inside_another_repository_is_not_taken_for_a_checkout(tmp_path):
    """An install whose files lie inside some other git repository (a venv in a user's project) records no commit
    rather than that repository's."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
         "-m", "x"], check=True,
    )  # fmt: skip
    inside = tmp_path / "lib" / "site-packages"
    inside.mkdir(parents=True)
    assert provenance.git_state(inside) == {"commit": None, "dirty": None}
    assert provenance.git_state(tmp_path)["commit"]


def test_a_damaged_record_is_replaced_not_fatal(tmp_path):
    (tmp_path / provenance.FILE).write_text("{not json")
    provenance.record_start(tmp_path)
    provenance.record_end(tmp_path, "done")
    record = provenance.read(tmp_path)
    assert len(record["sessions"]) == 1 and record["state"] == "done"
    assert provenance.commits({"sessions": [{"commit": "a"}, {"commit": None}, {"commit": "a"}]}) == ["a", "unknown"]


def test_the_cpu_model_and_its_kernel_capability_are_recorded(tmp_path):
    """CPU results depend on which vector kernels torch picked (AVX2, AVX512, ...): a run must say which."""
    provenance.record_start(tmp_path, device="cpu")
    cpu = provenance.read(tmp_path)["cpu"]
    assert cpu["capability"] == torch.backends.cpu.get_cpu_capability()
    assert cpu["threads"] == torch.get_num_threads() and cpu["model"]
    fake = tmp_path / "cpuinfo"
    fake.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU @ 2.00GHz\nflags\t: avx2\n")
    assert provenance.cpu_model(fake) == "Fake CPU @ 2.00GHz"
    assert provenance.cpu_model(tmp_path / "missing") == (platform.processor() or platform.machine())


@pytest.mark.slow
def test_a_forced_kernel_capability_is_recorded_as_forced(tmp_path):
    code = "import json, sys; from repro.runs import provenance; print(json.dumps(provenance.cpu_info()))"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    cpu = json.loads(out.stdout.strip().splitlines()[-1])
    assert cpu["capability"] == "DEFAULT" and cpu["forced_capability"] == "default"
