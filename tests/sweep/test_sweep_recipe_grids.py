"""A tuning grid sized for the recipe it tunes: the label step scales with the model's lr and the run's length, so a
row on another recipe than the one its grid was chosen for scales the grid by the ratio of label_lr's reach (lr x
epochs at the peak lr), rounded to a power of 2, and declares the preflight that checks it before its tuning."""

import math

import pytest

from repo_paths import REPO
from repro.sweep.stages.tune.preflight import peak_lr_epochs
from repro.sweep.stages.tune.tune_spec import cell_tune
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep

CHOSEN_FOR = "Ours (Instance labels)"  # Table 9's recipe: the row whose grid the appendix and Sec. 3.1 give


def _reach(plan, row: str) -> float:
    tuning = next(r for r in plan.unique.values() if r.stage == "tune" and r.row == row)
    return float(tuning.config["optim"]["lr"]) * peak_lr_epochs(tuning.config)


@pytest.mark.parametrize("table, row", [("table6", "Ours (setting A)"), ("table7", "Ours (setting B)")])
def test_the_setting_rows_grid_is_the_table9_grid_scaled_to_their_recipe(tmp_path, table, row):
    spec = load_sweep(REPO / "sweeps" / f"{table}.yaml")
    one = spec.select(rows=[CHOSEN_FOR, row], columns=spec.columns[:1])
    plan = plan_sweep(one, output_root=tmp_path)
    factor = 2 ** round(math.log2(_reach(plan, CHOSEN_FOR) / _reach(plan, row)))
    assert factor > 1  # the setting rows train at lr 0.1 against Table 9's 0.5
    base, scaled = (dict(cell_tune(spec, r, spec.columns[0]).grid) for r in (CHOSEN_FOR, row))
    assert scaled["method.label_lr"] == tuple(factor * v for v in base["method.label_lr"])
    assert scaled["method.init_target_prob"] == base["method.init_target_prob"]
    column = spec.columns[0]
    assert cell_tune(spec, row, column).preflight and not cell_tune(spec, CHOSEN_FOR, column).preflight
