"""The preflight a tuning stage declares (`preflight: true`): `repro sweep FILE` trains its grid's corners first and
says whether the labels move as the tuning needs; a grid chosen for a larger model lr is caught at a smaller one."""

import textwrap

import pytest

from presets import QUIET_YAML
from repro.errors import UserError
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

# A digits row at lr 0.1, a fifth of the lr its grid {5, 200} was chosen at (lr 0.5: the preflight at 0.5 moves the
# labels 0.02 per epoch at label_lr 200, at 0.1 about 0.003); the scaled grid is 5 x it, as sweeps/table7.yaml's
# setting-B row scales Table 9's grid to lr 0.1.
SWEEP = """
    name: preflight-default
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform, noise.fraction=0.4,
             data.subset=300, data.test_subset=100, device=cpu, optim.lr=0.1, optim.epochs=6, {quiet}]
    columns:
      Digits/40%: []
    rows:
      Ours:
        overrides: [method=instance_labels]
        tune: {{grid: {{method.label_lr: {grid}, method.init_target_prob: [0.9]}}, where: [], preflight: {preflight}}}
"""
UNSCALED, SCALED = "[5.0, 200.0]", "[25.0, 1000.0]"


def _write(tmp_path, grid: str, preflight: str = "true"):
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(SWEEP.format(quiet=QUIET_YAML, grid=grid, preflight=preflight)))
    return path


def test_a_tuning_stage_declares_its_preflight_and_the_dry_run_prices_it(tmp_path):
    lines: list[str] = []
    run_sweep(_write(tmp_path, SCALED), output_root=tmp_path / "out", dry_run=True, report=lines.append)
    text = "\n".join(lines)
    assert "preflight first (`preflight: true` on their tuning stage): 2 run(s) of 2 epochs" in text
    assert "Ours / Digits/40%" in text
    assert not (tmp_path / "out" / "preflight").exists()  # a dry run trains nothing
    lines.clear()
    run_sweep(_write(tmp_path, SCALED, "false"), output_root=tmp_path / "out", dry_run=True, report=lines.append)
    assert "preflight first" not in "\n".join(lines)
    with pytest.raises(UserError, match=r"preflight=.often. \(str\) is not allowed.*true or false"):
        load_sweep(_write(tmp_path, SCALED, "often"))


@pytest.mark.slow
@pytest.mark.parametrize("grid, warned", [(UNSCALED, True), (SCALED, False)])
def test_repro_sweep_preflights_first_and_warns_for_a_grid_unscaled_to_the_lr(tmp_path, grid, warned):
    lines: list[str] = []
    run_sweep(_write(tmp_path, grid), output_root=tmp_path / "out", jobs=1, report=lines.append)
    text = "\n".join(lines)
    first = next(i for i, line in enumerate(lines) if line.startswith("preflight: 2 run(s)"))
    tuning = next(i for i, line in enumerate(lines) if "tuning" in line.lower() and i > first)
    assert first < tuning
    assert ("WARNING preflight Ours / Digits/40%: no corner of the grid moves the labels" in text) is warned
    assert ("preflight Ours / Digits/40%: the labels move as the tuning needs" in text) is not warned
    assert len(list((tmp_path / "out" / "preflight" / "runs").iterdir())) == 2


def test_a_scaled_sweep_is_not_the_recipe_the_declared_preflight_checks(tmp_path):
    lines: list[str] = []
    path = _write(tmp_path, SCALED)
    run_sweep(path, output_root=tmp_path / "out", dry_run=True, scale=Scale(epochs=1), report=lines.append)
    assert "preflight first" not in "\n".join(lines)
