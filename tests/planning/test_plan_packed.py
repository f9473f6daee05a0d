"""`repro plan --runs-per-gpu K`: every run priced packed, at its unpacked hours over the calibration's measured
speed-up of K runs side by side (repro/sweep/budget/packing.py), its seeds-until-decided rounds too; every printed
command carries `--runs-per-gpu K`, so that its dry run prices the plan's total; a K whose runs do not fit the GPU's
memory is refused as `repro sweep` refuses it, and a K without a figure is priced at K=1 and said so.

A one-column MNIST-1D Table 1 on a fabricated CPU calibration holding `repro bench --concurrency 2`'s figures
(tests/cpu_plan.py: 2 runs side by side at SPEEDUP times one run's throughput)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

import pytest

from cpu_plan import CPU, SPEEDUP, TOTAL, one_line_sweeps
from repro.cli import main
from repro.planning.budget_plan import price_tables
from repro.sweep.budget.calibration import load_calibration

PLANNED = re.compile(r"([0-9.]+) CPU-hours as the commands below dry-run \(([0-9.]+) trained")
PACKED = (
    "packed 2 runs per GPU: priced from the measured aggregate throughput "
    f"(cnn1d meta x{SPEEDUP:.2f}, cnn1d plain x{SPEEDUP:.2f})"
)


def plan(capsys, sweeps, *flags: str) -> tuple[float, list[str], str]:
    """The plan's total, its `repro sweep` commands and its whole output."""
    assert main(["plan", "--budget", "100", "--gpu", CPU, "--sweeps-dir", str(sweeps), *flags]) == 0
    out = capsys.readouterr().out
    planned, _ = map(float, PLANNED.search(out).groups())
    return planned, [line for line in out.splitlines() if line.startswith("repro sweep ")], out


def dry_run(capsys, command: str, root) -> tuple[float, str]:
    assert main([*shlex.split(command)[1:], "--dry-run", "--output-root", str(root)]) == 0
    out = capsys.readouterr().out
    return float(TOTAL.search(out).group(1)), out


@pytest.mark.slow
def test_a_packed_plan_prices_its_runs_at_the_speed_up_and_its_commands_dry_run_at_its_total(
    capsys, tmp_path, monkeypatch
):
    sweeps = one_line_sweeps(tmp_path, monkeypatch, name="packed-plan", seeds=[0, 1, 2], packed=True)
    alone, alone_commands, _ = plan(capsys, sweeps)
    packed, commands, out = plan(capsys, sweeps, "--runs-per-gpu", "2")
    assert packed == pytest.approx(alone / SPEEDUP, rel=0.02)  # the same line, each run at 1/S of its hours
    assert PACKED in out and "--runs-per-gpu 2: memory not checked" in out  # a CPU has no device memory to fit
    assert not any("--runs-per-gpu" in c for c in alone_commands)
    assert commands and all("--runs-per-gpu 2" in c for c in commands)
    priced = 0.0
    for command in commands:
        total, said = dry_run(capsys, command, tmp_path / "out")
        assert PACKED in said
        priced += total
    assert priced == pytest.approx(packed, rel=0.05)


@pytest.mark.slow
def test_seeds_until_decided_are_priced_packed_and_their_command_dry_runs_at_the_plans_total(
    capsys, tmp_path, monkeypatch
):
    sweeps = one_line_sweeps(tmp_path, monkeypatch, name="packed-rounds", seeds=[0, 1, 2], packed=True)
    cal = load_calibration(CPU)
    alone, packed = (price_tables(cal, sweeps_dir=sweeps, until_decided=True, runs_per_gpu=k)[0] for k in (1, 2))
    assert any(len(key) == 3 for key in packed.hours)  # the further rounds' runs, each at its chance
    assert packed.hours == pytest.approx({key: hours / SPEEDUP for key, hours in alone.hours.items()})
    planned, commands, out = plan(
        capsys, sweeps, "--until-decided", "--runs-per-gpu", "2", "--runs", str(tmp_path / "none")
    )
    assert "until decided |" in out and len(commands) == 1
    assert commands[0].endswith(f"--seeds 0 1 --until-decided --runs-per-gpu 2 --gpu-model {CPU}")
    assert dry_run(capsys, commands[0], tmp_path / "out")[0] == pytest.approx(planned, rel=0.05)


@pytest.mark.slow
def test_a_k_without_a_figure_is_priced_unpacked_and_one_that_does_not_fit_is_refused_as_the_sweep_refuses_it(
    capsys, tmp_path, monkeypatch
):
    sweeps = one_line_sweeps(tmp_path, monkeypatch, name="unfit-plan", seeds=[0, 1, 2], packed=True)
    _, commands, out = plan(capsys, sweeps, "--runs-per-gpu", "3")
    assert "packed 3 runs per GPU: no concurrency figure; priced K=1 (no speed-up assumed) for cnn1d meta" in out
    assert all("--runs-per-gpu 3" in c for c in commands)
    # a device of 600 MB holds one run of 400 MB: K=2 is refused by the planner, as by the sweep's dry run
    replace(load_calibration(CPU), device_memory_mb=600.0).save()
    argv = ["plan", "--budget", "100", "--gpu", CPU, "--sweeps-dir", str(sweeps), "--runs-per-gpu", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "would be refused: --runs-per-gpu 2 does not fit" in err and "give --runs-per-gpu 1" in err
    assert len(err.strip().splitlines()) == 1
    sweep = ["sweep", str(sweeps / "table1.yaml"), "--gpu-model", CPU, "--runs-per-gpu", "2", "--dry-run"]
    assert main([*sweep, "--output-root", str(tmp_path / "out")]) == 2
    assert "--runs-per-gpu 2 does not fit" in capsys.readouterr().err
