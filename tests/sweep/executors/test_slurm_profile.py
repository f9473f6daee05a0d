"""Cluster profiles by name or path, from any working directory: the bundled ones (slurm/profiles/) resolve by name
wherever the command runs, a user's own file by its path, and an unknown name is one paragraph naming the bundled
profiles (exit 2). No cluster is started: the dry run only plans."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.cli import main
from repro.errors import UserError
from repro.sweep.cluster_profile import BUNDLED_PROFILES, load_profile, resolve_profile_path

SMOKE = str(REPO / "sweeps" / "smoke.yaml")


def test_a_bundled_profile_resolves_by_name_outside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert BUNDLED_PROFILES == REPO / "slurm" / "profiles"
    assert resolve_profile_path("local") == REPO / "slurm" / "profiles" / "local.yaml"
    assert load_profile("example-gpu").submitit_parameters()["slurm_account"] == "my_account"


def test_a_users_own_profile_is_read_from_its_path_and_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\npartition: gpu-long\n")
    assert load_profile(str(mine)).partition == "gpu-long"
    (tmp_path / "local").write_text("name: shadow\npartition: own\n")  # a file named like a bundled profile
    assert load_profile("local").partition == "own"


def test_an_unknown_profile_names_the_bundled_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as caught:
        resolve_profile_path("mycluster")
    message = str(caught.value)
    assert "'mycluster'" in message and "example-gpu, local" in message and "\n" not in message
    with pytest.raises(UserError, match="not a file"):
        resolve_profile_path(str(tmp_path / "missing.yaml"))  # a path that is not there is never read as a name


@pytest.mark.slow
def test_the_sweep_dry_run_takes_a_bundled_profile_by_name_from_another_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", SMOKE, f"output_root={tmp_path / 'out'}", "--executor", "slurm", "--dry-run"]
    assert main([*args, "--profile", "local"]) == 0
    assert "to submit" in capsys.readouterr().out
    assert main([*args, "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert "No cluster profile 'nope'" in err and "example-gpu, local" in err and "Traceback" not in err
