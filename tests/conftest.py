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
# `repro plan`'s kept expansions (repro/planning/expansions.py) outside the user's cache, shared the same way: an
# entry is read only for the very expansion it was written for.
os.environ.setdefault("REPRO_PLAN_CACHE", os.path.join(tempfile.gettempdir(), "repro-tests-plan"))

from resume_check import torch_flags_kept  # noqa: E402  (a tests/ helper by name: pytest's `pythonpath`)
from trained_runs import trained_runs  # noqa: E402, F401  (the session's shared runs, for every test)
from xdist_groups import group_items  # noqa: E402

# Each test's CPU seconds, and a warning at the end of the run for a first-tier test that grew (tests/cpu_seconds.py).
pytest_plugins = ["cpu_seconds"]


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path_factory, monkeypatch):
    wandb_root = tmp_path_factory.mktemp("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(wandb_root / var.lower()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    yield


def pytest_addoption(parser):
    parser.addoption(
        "--write-method-pins",
        action="store_true",
        help="rewrite tests/pins/old_methods.json from this code before its tests compare with it (only when a change "
        "of results is intended; say so in the commit)",
    )


def pytest_configure(config):
    """Under pytest-xdist the workers take the test groups in the order collected (below: heaviest first), not
    xdist's default order by number of tests, which left a one-test file of a minute to start last while the other
    worker sat idle."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# The SLURM tests are dealt round-robin into this many xdist groups: that many workers run them side by side on the
# session's one cluster (slurm_cluster.py), the others take the rest of the suite.
SLURM_GROUPS = 2


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need CUDA: they skip, saying so, on machines without it. Under pytest-xdist
    (`make test`: -n 3 --dist loadgroup) the tests are dealt to the workers in groups, heaviest first: a test file,
    the SLURM tests in `SLURM_GROUPS` groups, the tests marked with one `xdist_group` name (xdist_groups.py)."""
    group_items(config, items, SLURM_GROUPS)
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
