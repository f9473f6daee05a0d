"""benchmarks/halving_rules.py replays successive halving's rules from finished grid runs: on fabricated runs of 4
points where the early leader loses at full length, the old defaults (one finalist) keep the early leader and the
new ones (at least 3 finalists, first rung at a quarter of the epochs) the true winner."""

from __future__ import annotations

from benchmarks import halving_rules
from repro.runs.rundir import RunDir
from repro.sweep.stages.tune.tune_spec import TuneSpec

EPOCHS = 12
VALUES = (0.0, 0.2, 0.4, 0.6)
# validation accuracy per point: point 0 leads until epoch 6, point 1 wins at the end (tests at full length below)
CURVES = {
    0: lambda e: 0.60 + 0.02 * e,
    1: lambda e: 0.50 + 0.035 * e,
    2: lambda e: 0.45 + 0.03 * e,
    3: lambda e: 0.30 + 0.03 * e,
}
TEST = {0: 0.80, 1: 0.90, 2: 0.85, 3: 0.70}


def _runs(root) -> list[dict]:
    entries = []
    for point, value in enumerate(VALUES):
        rd = RunDir(root / f"run-{point}")
        rd.path.mkdir(parents=True)
        rd.write_metrics([{"epoch": e, "val_acc": CURVES[point](e)} for e in range(1, EPOCHS + 1)])
        rd.write_summary({"final_val_acc": CURVES[point](EPOCHS), "final_test_acc": TEST[point]})
        entries.append({"run": rd.run_id, "values": [value]})
    return entries


def test_old_defaults_keep_the_early_leader_and_the_new_ones_the_winner_at_full_length(tmp_path):
    entries = _runs(tmp_path)
    tune = TuneSpec(grid=(("method.epsilon", VALUES),))
    config = {"optim": {"epochs": EPOCHS, "warmup_epochs": 0}}
    got = {}
    for name, rule in halving_rules.RULES.items():
        rungs = halving_rules.rule_rungs(tune, config, len(VALUES), rule)
        got[name] = halving_rules.replay(entries, select="final_val_acc", rungs=rungs, rule=rule, runs_root=tmp_path)
    grid, old, new = got["grid"], got["old (eta 3, 1 finalist)"], got["new (eta 3)"]
    assert grid.rungs == (12,) and grid.winner == (0.2,) and grid.test == 0.90 and grid.epochs == 4 * EPOCHS
    # old: ranks at epoch 4 (12 / 3), one point on: the early leader, 0.10 behind the grid's test accuracy
    assert old.rungs == (4, 12) and old.survivors == (4, 1) and old.winner == (0.0,) and old.test == 0.80
    assert old.leader == new.leader == (0.0,) and grid.leader is None
    assert old.epochs == 4 * 4 + 1 * 8
    # new: the same rung (a quarter of 12 is 3, so 4 stands) but 3 finalists, which include the true winner
    assert new.rungs == (4, 12) and new.survivors == (4, 3) and new.winner == (0.2,) and new.epochs == 4 * 4 + 3 * 8
    assert "same winner in 1 of 1 cells" in halving_rules.render(
        [{"cell": "c", "keys": ["method.epsilon"], "outcomes": got}]
    )
