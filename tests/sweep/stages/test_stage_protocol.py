"""The next stages land through the protocol alone (repro/sweep/protocol/base.py): two stages of the shapes the suite
needs next are written in a temporary folder and registered, with no file of the package changed.

- `mentor:` on a row, a dependency like a teacher (MentorNet's mentor): per seed, a mentor run the row's student
  runs learn from and wait for (`plan_seed`);
- `rounds:` at the top, further seeds for the cells (sequential seeds): planned after the file's seeds with what
  every run of the cell takes (`CellRuns.then`, `Cell.seed_runs`), priced at their chance of being needed
  (`PlannedRun.share`), labelled by their round (`phase`), held until the first round is done (`decide`), then
  trained by the local sweep's next round.

What the plan, the budget and the executors do with their runs they read from the runs themselves."""

from __future__ import annotations

import pytest

from plugin_module import load_plugin
from presets import TINY_BASELINE_SWEEP, TINY_SWEEP_SCALE, write_tiny_sweep
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import run_gpu_hours
from repro.sweep.budget.estimate import plan_estimate
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.protocol.registry import register_stage, unregister_stage
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep

PLUGINS = '''
from dataclasses import replace

from repro.schema import option, schema
from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import parse_override
from repro.sweep.plan import SUBMITTABLE
from repro.sweep.protocol.base import Decision, Place, Stage
from repro.sweep.protocol.cell import CellRuns, SeedRuns


@schema
class MentorKey:
    """A row's mentor: a run of `epochs` epochs on the row's data that its students learn from."""

    epochs: int = option(ge=1, why="the mentor's epochs")


class MentorStage(Stage):
    key = "mentor"
    Spec = MentorKey
    places = frozenset({Place.ROW})

    def plan_seed(self, cell, seed):
        setting = cell.spec.row_specs[cell.row].settings.get(self.key)
        if setting is None:
            return None
        own = [parse_override(o, where="mentor") for o in ("method=baseline", f"optim.epochs={setting.epochs}")]
        o = cell.overrides  # the cell's own, then the command line's, the scale's, the seed and where its runs go
        end = [*o.command_line, *o.scale, parse_override(f"seed={seed}", where="mentor"), *o.where]
        mentor = make_run(cell.row, cell.column, seed, "mentor", None, [*o.own, *own, *end], (), "mentor")
        learns = parse_override(f"method.teacher={mentor.run_id}", where="mentor")
        return SeedRuns([*o.own, learns], (mentor.run_id,), (mentor,))


@schema
class RoundsKey:
    """Further seeds for every cell, trained once the file's seeds are done (a chance `needed` of being wanted)."""

    seeds: list[int] = option(why="the further seeds")
    needed: float = option(gt=0, le=1, why="the chance a further seed is wanted")


class RoundsStage(Stage):
    key = "rounds"
    Spec = RoundsKey

    def plan_cell(self, cell):
        setting = cell.spec.stage_settings.get(self.key)
        if setting is None:
            return None

        def then(runs):
            more = [run for seed in setting.seeds for run in cell.seed_runs(seed)]
            return runs + [replace(run, phase="round 2", share=setting.needed) for run in more]

        return CellRuns(then=then)

    def decide(self, plan, asked):
        first = [rid for rid, run in plan.unique.items() if not run.phase]
        if all(plan.status[rid].state == "done" for rid in first):
            return Decision(("rounds: round 2 goes",))
        for rid, run in plan.unique.items():
            if run.phase == "round 2" and plan.status[rid].state in SUBMITTABLE:
                plan.hold(rid, "round 2 waits for round 1")
        return Decision(("rounds: round 2 waits for round 1",))
'''


@pytest.fixture
def next_stages(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "next_stages.py").write_text(PLUGINS)
    module = load_plugin(folder / "next_stages.py", monkeypatch)
    register_stage(module.MentorStage)
    register_stage(module.RoundsStage)
    yield module
    unregister_stage("mentor")
    unregister_stage("rounds")


STUDENT = "      Student: {overrides: [method=distillation], mentor: {epochs: 1}}\n"


def test_a_dependency_stage_plans_a_run_its_students_learn_from_and_wait_for(next_stages, tmp_path, capsys):
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP.replace("seeds: [0]", "seeds: [0, 1]") + STUDENT)
    runs = expand_sweep(load_sweep(path), output_root=tmp_path / "out", scale=Scale(epochs=2))
    mentors = {r.seed: r for r in runs if r.stage == "mentor"}
    students = [r for r in runs if r.row == "Student" and r.stage == "single"]
    assert sorted(mentors) == [0, 1] and len(students) == 2
    for student in students:
        mentor = mentors[student.seed]
        assert student.depends_on == (mentor.run_id,) and student.config["method"]["teacher"] == mentor.run_id
        assert mentor.config["optim"]["epochs"] == 2  # the scale's epochs, as every run of the sweep
        assert runs.index(mentor) < runs.index(student)
    out = str(tmp_path / "out")
    assert main(["sweep", str(path), "--output-root", out, "--dry-run", "--epochs", "2"]) == 0
    text = capsys.readouterr().out
    # the mentor is the Baseline row's very run (the same config): planned by both, trained once
    assert {m.run_id for m in mentors.values()} == {r.run_id for r in runs if r.row == "Baseline"}
    assert "sweep tiny: 4 runs" in text and "Student" in text


@pytest.mark.slow  # trains two tiny runs, one round each
def test_a_stage_of_seed_rounds_prices_holds_releases_and_trains_them_through_the_protocol(next_stages, tmp_path):
    rounds = "    rounds: {seeds: [1], needed: 0.5}\n"
    path = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP + rounds)
    out = tmp_path / "out"
    plan = plan_sweep(load_sweep(path), output_root=out, scale=TINY_SWEEP_SCALE)
    first, second = plan.unique.values()
    assert (first.seed, first.label) == (0, "single") and (second.seed, second.label) == (1, "single round 2")
    assert second.config["sweep"]["row"] == "Baseline" and second.run_id != first.run_id
    assert plan.status[second.run_id].state == "held" and plan.decisions["rounds"].lines
    assert "single round 2" in plan.summary_table() and "round 2 waits for round 1" in plan.runs_table()
    hours = run_gpu_hours(first.config, load_calibration()) or 0.0
    assert plan_estimate(plan).total == pytest.approx(hours * 1.5)  # the further seed at its chance of being wanted

    lines: list[str] = []
    trained = run_sweep(path, output_root=out, scale=TINY_SWEEP_SCALE, jobs=1, report=lines.append)
    assert trained.submitted == [first.run_id, second.run_id]  # round 1, then what the stage released
    assert "rounds: round 2 goes" in lines and all(RunDir(out.resolve() / "runs" / r).is_done() for r in plan.unique)
