"""Shared test setup: one torch thread (2 threads can be many times slower on this shared machine),
W&B offline with every directory in a temp dir."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch

torch.set_num_threads(1)
# torch reads the cuBLAS workspace setting once, at the process's first matrix product, and deterministic mode needs
# it (repro/training/hardware.py). A run sets it before its first product, but in this one test process on a GPU,
# earlier
# tests have run products by the time a deterministic run starts: set it before any of them.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# MNIST-1D's generated data (repro/data/mnist1d.py) cached for the tests outside the user's cache, shared by the
# session's processes (a sweep's workers inherit it) and by later sessions: the same arguments give the same file.
os.environ.setdefault("REPRO_MNIST1D_CACHE", os.path.join(tempfile.gettempdir(), "repro-tests-mnist1d"))

from resume_check import torch_flags_kept  # noqa: E402  (tests/ is on sys.path: pyproject.toml's pytest `pythonpath`)
from trained_runs import trained_runs  # noqa: E402, F401  (the session's shared runs, for every test)


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path_factory, monkeypatch):
    wandb_root = tmp_path_factory.mktemp("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(wandb_root / var.lower()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    yield


def pytest_configure(config):
    """Under pytest-xdist the workers take the test groups in the order collected (below: heaviest first), not
    xdist's default order by number of tests, which left a one-test file of a minute to start last while the other
    worker sat idle."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need CUDA: they skip, saying so, on machines without it. Under pytest-xdist
    (`make test`: -n 3 --dist loadgroup) each test file runs on one worker (its module fixtures are built once),
    every SLURM test on the same one, which starts the session's one local cluster, and the tests marked with one
    `xdist_group` name on one worker (repo_paths.EVERY_SWEEP: the tests that expand every sweep file, the second
    and later finding the process's composition caches warm). The groups are ordered heaviest first (the SLURM
    tests, then the groups with a `slow` test, then the rest, each in collection order), so the last groups the
    workers pick are short and neither waits long for the other at the end."""

    def group(item) -> str:
        if "slurm" in item.keywords:
            return "slurm"
        named = item.get_closest_marker("xdist_group")  # tests of several files that share a process's caches
        return named.args[0] if named else item.nodeid.split("::")[0]

    slow_groups = {group(item) for item in items if "slow" in item.keywords}
    # stable: a group's tests keep their order and stay together
    items.sort(key=lambda item: 0 if group(item) == "slurm" else 1 if group(item) in slow_groups else 2)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:  # xdist joins every group a test is marked with
            item.add_marker(pytest.mark.xdist_group(group(item)))
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (no CUDA GPU visible to torch)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def restore_torch_flags():
    """Tests that apply a run's hardware settings leave the process as they found it."""
    with torch_flags_kept():
        yield
