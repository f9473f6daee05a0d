"""`repro doctor`: reports the environment; exit 0 when a run can start here, 1 when something required is missing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import torch

from repro.cli import main
from repro.commands import doctor


def _fake_sinfo(folder: Path, body: str) -> None:
    script = folder / "sinfo"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def path_with(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_doctor_reports_every_part_and_passes_here(path_with, capsys):
    _fake_sinfo(path_with, 'echo "gpu up 4"; echo "cpu up 8"')
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("torch", "cuda", "wandb", "slurm", "data"):
        assert f"  {name}" in out
    assert "partitions: gpu, cpu" in out and out.strip().endswith("ready")


@pytest.mark.slow
def test_unreachable_slurm_warns_and_fails_only_when_required(path_with, monkeypatch, capsys):
    _fake_sinfo(path_with, "sleep 5")
    monkeypatch.setattr(doctor, "SINFO_TIMEOUT_S", 0.5)
    assert main(["doctor"]) == 0
    assert "unreachable" in capsys.readouterr().out
    assert main(["doctor", "--require-slurm"]) == 1
    assert "not ready: slurm" in capsys.readouterr().out


def test_data_root_is_checked_for_cifar_and_what_is_missing_comes_with_its_command(tmp_path, capsys):
    assert main(["doctor", "--data-root", str(tmp_path / "missing")]) == 1
    assert "not a directory" in capsys.readouterr().out
    assert main(["doctor", "--data-root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "no CIFAR" in out and f"fetch it: repro data download cifar10 cifar100 cifar-n --root {tmp_path}" in out
    (tmp_path / "CIFAR-10_human.pt").write_bytes(b"")
    (tmp_path / "CIFAR-100_human.pt").write_bytes(b"")
    assert doctor.check_data(str(tmp_path))[0].state == doctor.FAIL  # labels without their images
    (tmp_path / "cifar-100-python").mkdir()
    assert main(["doctor", "--data-root", str(tmp_path)]) == 0  # one CIFAR is enough to start; the other is named
    (check,) = doctor.check_data(str(tmp_path))
    assert check.state == doctor.WARN and check.detail.startswith(f"{tmp_path}: cifar100, cifar-n; missing cifar10")
    assert check.detail.endswith(f"fetch it: repro data download cifar10 --root {tmp_path}")
    assert "repro data download cifar10 cifar100 cifar-n --root DIR" in doctor.check_data(None)[0].detail


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the report where torch sees no GPU")
def test_require_gpu_fails_without_one(capsys):
    assert main(["doctor", "--require-gpu"]) == 1
    assert "FAIL  cuda" in capsys.readouterr().out


@pytest.mark.gpu
def test_doctor_sees_the_gpu(capsys):
    assert main(["doctor", "--require-gpu"]) in (0, 1)  # SLURM or W&B may be missing; CUDA must not
    out = capsys.readouterr().out
    assert "ok    cuda" in out and torch.cuda.get_device_name(0) in out


def test_a_torchvision_that_does_not_load_beside_this_torch_fails_with_the_fix(monkeypatch, capsys):
    """What a site torch plus PyPI's torchvision gives: imports, then 'operator torchvision::nms does not exist'."""

    def broken():
        raise RuntimeError("operator torchvision::nms does not exist")

    monkeypatch.setattr(doctor, "_load_torchvision_ops", broken)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  torchvision" in out and "nms does not exist" in out and "built for this torch" in out
    assert "not ready: torchvision" in out


def test_a_torchvision_built_for_another_torch_fails(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_torch_torchvision_wants", lambda: "==2.4.0")
    assert main(["doctor"]) == 1
    assert "built for torch 2.4.0, but torch is" in capsys.readouterr().out


def test_torchvision_is_reported_with_its_version_here(capsys):
    import torchvision

    assert main(["doctor"]) in (0, 1)  # SLURM or data may be missing; torchvision itself must be fine here
    assert f"ok    torchvision  {torchvision.__version__}" in capsys.readouterr().out
