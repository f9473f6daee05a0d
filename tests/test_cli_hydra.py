"""`repro train` with Hydra's habits: --cfg, --info defaults, -m/--multirun through the sweep machinery, overrides
anywhere on the command line (the refusals of hydra/..., +/~ and unknown keys are in
tests/project/test_bad_input.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from presets import CLEAN
from repo_paths import REPO
from repro.cli import main
from repro.commands import multirun
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir


def run_ids(out: Path) -> set[str]:
    return {p.name for p in (out / "runs").iterdir() if p.is_dir()} if (out / "runs").is_dir() else set()


@pytest.mark.slow
def test_multirun_runs_every_combination_once_as_repro_train_would_and_again_runs_none(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["train", "-m", "seed=0,1", "method=baseline,class_labels", "optim.epochs=1", *CLEAN, f"output_root={out}"]
    assert main(argv) == 0
    expected = {
        RunDir.for_config(
            to_container(load_config([f"seed={s}", f"method={m}", "optim.epochs=1", *CLEAN, f"output_root={out}"]))
        ).run_id
        for s in (0, 1)
        for m in ("baseline", "class_labels")
    }
    assert run_ids(out) == expected  # the runs `repro train <one combination>` trains, in the same directories
    assert all(RunDir(out / "runs" / rid).is_done() for rid in expected)
    first = capsys.readouterr().out
    assert first.count(": training") == 4
    summaries = {rid: (out / "runs" / rid / "summary.json").stat().st_mtime_ns for rid in expected}

    assert main(argv) == 0  # again: every run is done, none runs
    second = capsys.readouterr().out
    assert ": training" not in second and "every run is done" in second
    assert summaries == {rid: (out / "runs" / rid / "summary.json").stat().st_mtime_ns for rid in expected}


def test_multirun_expands_with_hydras_grammar():
    combos = multirun.combinations(
        ["seed=range(0,3)", "method=baseline,class_labels", "optim.lr=choice(0.1,0.2)", "model=smallcnn"]
    )
    assert len(combos) == 3 * 2 * 2
    assert {tuple(sorted(c)) for c in combos} == {
        tuple(sorted([f"seed={s}", f"method={m}", f"optim.lr={lr}", "model=smallcnn"]))
        for s in (0, 1, 2)
        for m in ("baseline", "class_labels")
        for lr in (0.1, 0.2)
    }
    spec, root = multirun.multirun_spec(combos)
    assert spec.seeds == ["0", "1", "2"] and len(spec.rows) == 4 and root == "outputs"
    assert spec.common == ("model=smallcnn",)


def test_multirun_asks_for_the_same_run_twice_and_plans_it_once(tmp_path):
    from repro.sweep.sweep_plan import plan_sweep

    # notes never enters the run id: two combinations, one run (Hydra's own multirun would train it twice)
    spec, _ = multirun.multirun_spec(multirun.combinations(["notes=first,second", "seed=0", *CLEAN]))
    plan = plan_sweep(spec, output_root=tmp_path)
    assert len(spec.rows) == 2 and len(plan.unique) == 1 and len(plan.to_submit) == 1


def test_cfg_job_prints_the_config_a_run_saves(capsys):
    overrides = ["model=resnet18", "data=cifar10", "optim.lr=0.2"]
    assert main(["train", "--cfg", "job", "--resolve", *overrides]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == to_container(load_config(overrides))
    assert main(["train", "--cfg", "all", *overrides]) == 0
    both = yaml.safe_load(capsys.readouterr().out)
    assert "hydra" in both and both["model"]["name"] == "resnet18"
    assert main(["train", "--cfg", "hydra"]) == 0
    assert list(yaml.safe_load(capsys.readouterr().out)) == ["hydra"]


def test_info_defaults_names_the_file_of_each_group(capsys):
    assert main(["train", "model=resnet18", "--info", "defaults", "method=class_labels"]) == 0
    out = capsys.readouterr().out
    for rel in (
        "model/resnet18.yaml",
        "method/class_labels.yaml",
        "optim/resnet18.yaml",
        "data/digits.yaml",
        "repro/conf/config.yaml",
    ):
        assert rel in out, out
    assert "hydra/" not in out


def test_overrides_may_come_anywhere_on_the_line():
    from repro.commands import train as train_command
    from repro.hydra_flags import config_roots, parse_with_overrides
    from repro.sweep import command as sweep_command

    parser = argparse.ArgumentParser()
    sweep_command.add_arguments(parser)
    args = parse_with_overrides(
        parser,
        [
            "sweeps/table3.yaml",
            "--rows",
            "Baseline",
            "progress=plain",
            "--columns",
            "Dynamic=no/Class",
            "--seeds",
            "0",
            "seed=1",
        ],
        "target",
        config_roots(),
    )
    assert args.target == ["sweeps/table3.yaml", "progress=plain", "seed=1"]
    assert args.rows == ["Baseline"] and args.columns == ["Dynamic=no/Class"] and args.seeds == [0]

    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    args = train_command.parse_args(parser, ["--wait", "seed=1", "--cfg", "job", "model=resnet18", "-m"])
    assert args.overrides == ["seed=1", "model=resnet18"] and args.cfg == "job" and args.multirun


def test_multirun_plans_for_slurm_with_a_profile(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "train",
                "-m",
                "seed=0,1",
                *CLEAN,
                f"output_root={out}",
                "--executor",
                "slurm",
                "--profile",
                "slurm/profiles/example-gpu.yaml",
                "--dry-run",
            ]
        )
        == 0
    )
    assert "2 runs" in capsys.readouterr().out and run_ids(out) == set()


@pytest.mark.slow
def test_other_info_reports_are_hydras_own_printed_once():
    import os
    import subprocess
    import sys

    repo = REPO
    done = subprocess.run(
        [sys.executable, "-m", "repro.cli", "train", "--info", "defaults-tree", "model=resnet18"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("model: resnet18") == 1 and "Defaults Tree" in done.stdout and not done.stderr.strip()
