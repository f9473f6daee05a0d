"""`repro sweep FILE --preflight --executor slurm` on the throw-away one-node SLURM cluster: the
grid corners go to SLURM as one job array through the sweep's submitit path, the command waits for them, then prints
the same report as a local preflight (label movement per corner, the plan recalibrated)."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.sweep_folder import sweep_dir
from slurm_cluster import slurm_cluster  # noqa: F401  (the session fixture)
from tuned_sweep import SUBSET_ARGS, write_tuned_sweep

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def test_preflight_on_slurm_submits_the_corners_waits_and_prints_label_movement(slurm_cluster, tmp_path, capsys):
    path, out = write_tuned_sweep(tmp_path, "{method.label_lr: [0.3, 3]}"), tmp_path / "out"
    args = ["sweep", str(path), "progress=plain", "--preflight", "--preflight-epochs", "1", "--output-root", str(out)]
    assert main([*args, *SUBSET_ARGS, "--executor", "slurm", "--profile", str(PROFILE)]) == 0
    text = capsys.readouterr().out
    assert "preflight: 2 run(s) at the corners" in text and "submitted job " in text
    lines = [line for line in text.splitlines() if line.startswith("Ours (Class)") and "label_lr=" in line]
    assert [line.split()[3] for line in lines] == ["label_lr=0.3", "label_lr=3"]
    moved = [float(line.split()[4]) for line in lines]
    assert moved[1] > moved[0] > 0  # a 10x label lr moves the labels further
    assert "recalibrated plan on this machine" in text
    # the corners ran as SLURM jobs (recorded as a sweep's are) and are runs of their own, not of the table
    root = out.resolve() / "preflight"
    registry = Registry.load(sweep_dir(root, "tuned-preflight") / "jobs.json")
    done = [p.name for p in (root / "runs").iterdir() if RunDir(p).is_done()]
    assert len(done) == 2 and all(registry.latest(rid) is not None for rid in done)
    assert not (out / "runs").exists()
