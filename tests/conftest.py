"""Shared test setup: one torch thread (2 threads can be many times slower on this shared machine),
W&B offline with every directory in a temp dir."""

from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path_factory, monkeypatch):
    wandb_root = tmp_path_factory.mktemp("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(wandb_root / var.lower()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    yield
