"""A run's file count is bounded and does not grow with its epochs: a finished learned-label run with W&B offline
(its run directory with its W&B folder, and W&B's cache, data and settings directories) at 2 and at 5 epochs leaves
the same number of entries, within the stated budget; `repro doctor` warns when W&B's directories sit under a home
directory with little room."""

from __future__ import annotations

import pytest

from repro.cli import main
from repro.config import load_config
from repro.runs.footprint import ENTRIES_PER_RUN, count_entries
from repro.tracking import wandb_dirs
from repro.train import train

WANDB_VARS = ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR")


def _entries_of_one_run(tmp_path, monkeypatch, epochs: int) -> int:
    """Train one run as a SLURM job does (its own W&B service, W&B's directories to itself) and count."""
    import wandb

    # a W&B service left by an earlier test of this process would keep writing its logs into that test's
    # directories (4 entries fewer here): each run starts its own, as a job's fresh process does
    wandb.teardown()

    root = tmp_path / f"epochs{epochs}"
    for var in WANDB_VARS:
        monkeypatch.setenv(var, str(root / var.lower()))
    overrides = ["method=instance_labels", f"optim.epochs={epochs}", "data.subset=120", "data.test_subset=60"]
    result = train(load_config([*overrides, "progress=none", "tracker=wandb", f"output_root={root / 'out'}"]))
    wandb.teardown()  # the service's own logs land now, as at a job's exit
    assert result.run_dir.is_done()
    return count_entries(root)


@pytest.mark.slow
def test_a_learned_label_run_leaves_the_same_files_at_any_number_of_epochs(tmp_path, monkeypatch):
    short = _entries_of_one_run(tmp_path, monkeypatch, 2)
    longer = _entries_of_one_run(tmp_path, monkeypatch, 5)
    assert short == longer, f"{short} entries after 2 epochs, {longer} after 5: something is written per epoch"
    assert longer <= ENTRIES_PER_RUN, longer


def test_doctor_warns_when_wandb_directories_sit_in_a_cramped_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for var in WANDB_VARS:
        monkeypatch.delenv(var, raising=False)  # W&B's defaults: under $HOME
    monkeypatch.setattr(
        wandb_dirs, "room", lambda path: wandb_dirs.Room(path, 50 * 2**30, wandb_dirs.MIN_FREE_INODES - 1)
    )
    assert main(["doctor"]) in (0, 1)  # SLURM or a GPU may be missing; the warning is the point
    out = capsys.readouterr().out
    assert "warn  wandb dirs" in out and f"WANDB_CACHE_DIR={home}" in out and "inodes free" in out
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "scratch" / "cache"))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "scratch" / "data"))
    monkeypatch.setenv("WANDB_ARTIFACT_DIR", str(tmp_path / "scratch" / "artifacts"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "scratch" / "config"))
    main(["doctor"])
    assert "ok    wandb dirs" in capsys.readouterr().out
