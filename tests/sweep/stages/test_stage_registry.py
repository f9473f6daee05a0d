"""A stage is one class registered (repro/sweep/protocol/base.py, registry.py): a toy stage written in a temporary
folder and registered reads its own key of a sweep file through its schema declaration, plans runs that depend on
the sweep's, prices them in the dry run and reports them in `repro sweep status`, with no other file changed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from plugin_module import load_plugin
from presets import TINY_BASELINE_SWEEP, write_tiny_sweep
from repro.cli import main
from repro.errors import UserError
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.protocol.base import Place, StageFlag
from repro.sweep.protocol.cell import CellRuns
from repro.sweep.protocol.registry import STAGES, register_stage, stage_class, unregister_stage
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

TOY = '''
from repro.schema import option, schema
from repro.sweep.expand.overrides import parse_override
from repro.sweep.expand.build import make_run
from repro.sweep.protocol.base import Decision, DryRun, Stage
from repro.sweep.protocol.cell import CellRuns


@schema
class ToySpec:
    """The toy stage's key: each reported run gets a toy run of `epochs` epochs after it."""

    epochs: int = option(ge=1, why="the toy runs' epochs")


class ToyStage(Stage):
    key = "toy"
    Spec = ToySpec

    def plan_cell(self, cell):
        setting = cell.spec.stage_settings.get(self.key)
        if setting is None:
            return None

        def then(runs):
            return runs + [
                make_run(
                    run.row, run.column, run.seed, "toy", None,
                    [parse_override(o, where="toy") for o in run.overrides if not o.startswith("sweep.stage=")]
                    + [parse_override(f"optim.epochs={setting.epochs}", where="toy")],
                    (run.run_id,), "toy",
                )
                for run in runs
                if run.stage == "single"
            ]

        return CellRuns(then=then)

    def decide(self, plan, asked):
        toys = [rid for rid, r in plan.unique.items() if r.stage == "toy"]
        done = sum(plan.status[rid].state == "done" for rid in toys)
        priced = DryRun()
        if asked.dry_run and toys:
            epochs = plan.unique[toys[0]].config["optim"]["epochs"]
            priced = DryRun(prices=(f"toy stage: {len(toys)} run(s) of {epochs} epoch(s)",))
        return Decision(report=(f"toy stage: {done} of {len(toys)} done",), dry_run=priced)
'''


@pytest.fixture
def toy_stage(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toy_stage.py").write_text(TOY)
    module = load_plugin(folder / "toy_stage.py", monkeypatch)
    register_stage(module.ToyStage)
    yield module.ToyStage
    unregister_stage("toy")


def test_a_registered_stage_reads_its_key_plans_prices_and_reports(toy_stage, tmp_path, capsys):
    assert STAGES["toy"] is toy_stage
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + "    toy: {epochs: 2}\n")
    spec = load_sweep(path)
    runs = expand_sweep(spec, output_root=tmp_path / "out", scale=Scale(epochs=1))
    single, toy = [r for r in runs if r.stage == "single"], [r for r in runs if r.stage == "toy"]
    assert len(single) == len(toy) == 1 and toy[0].depends_on == (single[0].run_id,)
    assert toy[0].config["optim"]["epochs"] == 2 and toy[0].run_id != single[0].run_id

    out = str(tmp_path / "out")
    assert main(["sweep", str(path), "--output-root", out, "--dry-run", "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert "sweep tiny: 2 runs" in text and "toy stage: 1 run(s) of 2 epoch(s)" in text
    assert main(["sweep", "status", str(path), "--output-root", out, "--epochs", "1"]) == 0
    assert "toy stage: 0 of 1 done" in capsys.readouterr().out


def test_a_registered_stages_option_reaches_its_plan_through_the_scale(toy_stage, tmp_path, capsys):
    """A stage's `repro sweep` option is added from its class (no core module names it), checked by it, and read
    back from the sweep's Scale in every expansion, `repro sweep status`'s included."""

    class FlagToy(toy_stage):
        key = "flag_toy"
        flags = (StageFlag("--toy-epochs", "the toy runs' epochs", int, "N", check=_at_most_five),)

        def plan_cell(self, cell):
            planned = super().plan_cell(cell)
            epochs = cell.scale.option("toy_epochs") if cell.scale is not None else None
            if planned is None or epochs is None:
                return planned
            toys = planned.then
            return CellRuns(then=lambda runs: [replace(r, config=_epochs(r, epochs)) for r in toys(runs)])

    register_stage(FlagToy)
    try:
        path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + "    flag_toy: {epochs: 2}\n")
        out = str(tmp_path / "out")
        dry = ["sweep", str(path), "--output-root", out, "--dry-run", "--epochs", "1"]
        assert main([*dry, "--toy-epochs", "4"]) == 0
        assert "toy stage: 1 run(s) of 4 epoch(s)" in capsys.readouterr().out
        assert main([*dry, "--toy-epochs", "9"]) == 2
        assert "at most 5" in capsys.readouterr().err
    finally:
        unregister_stage("flag_toy")
    assert Scale(stage_options={"toy_epochs": 4}) == Scale(stage_options=(("toy_epochs", 4),))


def _at_most_five(epochs, given):
    if epochs > 5:
        raise UserError("--toy-epochs: at most 5 (the toy's own rule)")


def _epochs(run, epochs):
    """A toy run's config at the epochs its option gave (the sweep's own runs keep theirs)."""
    return {**run.config, "optim": {**run.config["optim"], "epochs": epochs}} if run.stage == "toy" else run.config


def test_a_registered_stage_key_is_checked_by_its_declaration(toy_stage, tmp_path):
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + "    toy: {epochs: 0}\n")
    with pytest.raises(UserError, match="toy"):
        load_sweep(path)


def test_an_unregistered_key_is_refused(tmp_path):
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + "    toy: {epochs: 2}\n")
    with pytest.raises(UserError, match="unknown key 'toy'"):
        load_sweep(path)


def test_a_registered_stage_may_read_a_row_key_through_its_declaration(toy_stage, tmp_path):
    class RowToy(toy_stage):
        key = "row_toy"
        places = frozenset({Place.ROW})

    register_stage(RowToy)
    try:
        row = "Baseline: {overrides: [method=baseline], row_toy: {epochs: %d}}"
        path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP.replace("Baseline: [method=baseline]", row % 3))
        assert load_sweep(path).row_specs["Baseline"].settings["row_toy"].epochs == 3
        path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP.replace("Baseline: [method=baseline]", row % 0))
        with pytest.raises(UserError, match=r"rows\.Baseline\.row_toy\.epochs=0"):
            load_sweep(path)
        path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + "    row_toy: {epochs: 3}\n")
        with pytest.raises(UserError, match="unknown key 'row_toy' in the top level"):
            load_sweep(path)
    finally:
        unregister_stage("row_toy")


@pytest.mark.parametrize(
    "key", ["learn: [method=class_labels]", "out_of_sample: {folds: 2}", "teacher: {row: Baseline}"]
)
def test_a_built_in_stage_key_stands_only_where_its_stage_places_it(tmp_path, key):
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + f"    {key}\n")
    with pytest.raises(UserError, match="unknown key .* in the top level"):
        load_sweep(path)


def test_the_built_in_stages_are_registered_with_their_keys():
    assert {"tune", "gate", "teacher", "out_of_sample", "learn"} <= set(STAGES)
    assert all(stage_class(key).key == key for key in STAGES)


@pytest.mark.parametrize(
    "row, says",
    [
        ("{learn: [method=class_labels], out_of_sample: {folds: 2}}", "folds of a plain row's run"),
        ("{learn: [method=class_labels], teacher: {row: Baseline}}", "cannot also learn labels"),
    ],
)
def test_a_stage_refuses_a_row_key_that_excludes_its_own(tmp_path, row, says):
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + f"      Other: {row}\n")
    with pytest.raises(UserError, match=says):
        expand_sweep(load_sweep(path), output_root=tmp_path / "out", scale=Scale(epochs=1))
