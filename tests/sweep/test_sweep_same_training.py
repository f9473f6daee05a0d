"""A tuned run that is one of its tuning runs is not trained twice: with `where: []` the winning point's tuning run of
a tuning seed is the reported run of that seed (same config, seed and split), so the reported run takes its records
(repro/runs/adopt.py) and the dry run prices it at nothing and says what that saves."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from analysis.cells import index_runs
from analysis.collect import collect_runs
from analysis.sweeps import sweep_index
from presets import QUIET_YAML
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.stages.tune.tune_spec import cell_tune
from repro.sweep.stages.tune.tuning import reuses_tuning_run, tuned_keys
from repro.sweep.start import train_run
from repro.sweep.sweep_file import load_sweep

SCALE = Scale(epochs=1, subset=200, test_subset=100)
SWEEPS = REPO / "sweeps"


def _write(tmp_path: Path, where: str) -> Path:
    path = tmp_path / "same.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            name: same
            metric: final_test_acc
            seeds: [0, 1]
            common: [data=digits, model=smallcnn, split=noisy, noise=uniform, noise.fraction=0.4, {QUIET_YAML}]
            columns:
              Digits: []
            rows:
              Label Smoothing:
                overrides: [method=label_smoothing]
                tune: {{grid: {{method.epsilon: [0.1, 0.4]}}, where: {where}, seeds: [0]}}
            """
        )
    )
    return path


def test_a_tuned_run_of_a_tuning_seed_takes_the_winners_records_and_trains_nothing(tmp_path, capsys):
    path, out = _write(tmp_path, "[]"), tmp_path / "out"
    args = ["sweep", str(path), "--output-root", str(out), "--dry-run", "--epochs", "1"]
    assert main([*args, "--subset", "200", "--test-subset", "100"]) == 0
    assert "not trained twice: 1 tuned runs are their seed's winning tuning run" in capsys.readouterr().out
    run_sweep(path, output_root=out, scale=SCALE, report=lambda line: None)
    runs = expand_sweep(load_sweep(path), output_root=out, scale=SCALE)
    tuned = {r.seed: RunDir(out / "runs" / r.run_id) for r in runs if tuned_keys(r.config)}
    seed0, seed1 = tuned[0].read_summary(), tuned[1].read_summary()
    winner = RunDir(out / "runs" / seed0["same_training_as"])
    assert winner.run_id in {e["run"] for e in tuned[0].read_config()["tune"]["runs"]}
    # the same training: the tuning run's own per-epoch records, and its result under the tuned run's name
    assert tuned[0].read_metrics() == winner.read_metrics()
    assert seed0["final_test_acc"] == winner.read_summary()["final_test_acc"] and seed0["tuned"]
    assert "took its records, trained nothing" in tuned[0].log_file.read_text()
    assert "same_training_as" not in seed1  # seed 1 tuned nothing: it trains with the winner's values
    assert tuned[1].read_config()["method"]["epsilon"] == tuned[0].read_config()["method"]["epsilon"]
    # runs read from W&B: the adopted run logged no W&B run of its own, and its cell finds the winner's record
    frame = collect_runs(out)
    frame = frame[frame["run_id"] != tuned[0].run_id]

    def seed0_cell(frame):  # the tuning stage decided on the plan which run the tuned run takes (plan.takes)
        index = sweep_index(load_sweep(path), index_runs(frame), output_root=out, scale=SCALE, extra_overrides=[])
        return next(c for c in index.cell_runs() if c.planned.run_id == tuned[0].run_id)

    assert seed0_cell(frame).run is None  # run directories: a run not adopted yet is not done
    cell = seed0_cell(frame.assign(path=lambda f: "wandb:entity/project/" + f["run_id"]))
    assert cell.done and cell.run["same_training_as"] == winner.run_id
    assert cell.run["final_test_acc"] == seed0["final_test_acc"]
    # --rerun keeps the adopted run as an earlier attempt and adopts again: still nothing trained
    (planned,) = [r for r in runs if r.run_id == tuned[0].run_id]
    again = train_run(OmegaConf.create(planned.config), rerun=True)
    assert again.summary["same_training_as"] == winner.run_id and not again.already_done
    assert (out / "attempts" / tuned[0].run_id).is_dir()


def test_a_tuning_stage_on_another_split_is_not_the_same_training(tmp_path):
    runs = expand_sweep(load_sweep(_write(tmp_path, "[split.meta_fraction=0.2]")), output_root=tmp_path, scale=SCALE)
    assert not any(reuses_tuning_run(r.config) for r in runs if tuned_keys(r.config))


@pytest.mark.slow
def test_every_sweep_file_tuning_on_its_own_split_trains_its_tuning_seeds_once():
    """Table 6, 7, 12, CIFAR-N, Lukasik (`where: []`): each tuned run of a tuning seed is one of its tuning runs."""
    checked = 0
    for path in sorted(SWEEPS.rglob("*.yaml")):
        if "where: []" not in path.read_text():
            continue
        spec = load_sweep(path)
        for run in expand_sweep(spec.select(seeds=spec.seeds[:1]), output_root="same-training"):
            tune = cell_tune(spec, run.row, run.column) if tuned_keys(run.config) else None
            if tune is not None and tune.where == () and tune.epochs is None and run.seed in tune.seeds:
                assert reuses_tuning_run(run.config), (path.name, run.row, run.column)
                checked += 1
    assert checked >= 10
