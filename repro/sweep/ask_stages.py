"""What the sweep asks of every registered stage once its runs are planned (repro/sweep/protocol/base.py, the protocol):
their decisions on a plan (`decide`: the runs a stage holds or settles, what it records), their reports (`report`),
and their preflights (`run_preflights`), trained with the sweep's executor (`train_elsewhere`). repro/sweep/run.py
and repro/sweep/command.py ask through here; no stage is named."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from repro.sweep.cluster_profile import ClusterProfile
from repro.sweep.executors.local import run_planned_runs
from repro.sweep.executors.slurm import submit
from repro.sweep.plan import Plan
from repro.sweep.protocol.base import Asked, Preflight, TrainRuns
from repro.sweep.protocol.registry import stages
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs

Report = Callable[[str], None]
NOTHING_ASKED = Asked()  # status, a dry run: the stages decide, record nothing and accept nothing


def decide(plan: Plan, asked: Asked = NOTHING_ASKED) -> list[str]:
    """Every registered stage's decision on a plan, in registry order (the tuning stage settles its rung jobs, the
    baseline gate holds runs; `asked`: for a sweep that trains or submits, what they record and what the user
    accepts), kept on the plan (`plan.decisions`); then why a run cannot start. Returns what they say of it."""
    for stage in stages():
        plan.decisions[stage.key] = stage.decide(plan, asked)
    plan.explain_waits()
    return decided(plan)


def decided(plan: Plan) -> list[str]:
    """What the stages said of their decisions on the plan, in registry order."""
    return [text for decision in plan.decisions.values() for text in decision.lines]


def run_preflights(spec: SweepSpec, plan: Callable[[], Plan], how: Preflight) -> list[PlannedRun]:
    """Every registered stage's preflight (the tuning stage's grid corners): the runs they trained. `plan()` plans
    the sweep when a stage first asks for it."""
    return [run for stage in stages() for run in stage.preflight(spec, plan, how)]


def train_elsewhere(jobs: int | None, profile: ClusterProfile | None, report: Report) -> TrainRuns:
    """How a stage's runs outside the table (a preflight's, in their own output root) train: written beside their
    own sweep folder, then here (up to `jobs` at once) or as one SLURM job array the command waits for."""

    def train(runs: Sequence[PlannedRun], name: str, root: Path, done: Sequence[str]) -> None:
        configs = write_planned_configs(sweep_dir(root, name), list(runs))
        if profile is None:
            run_planned_runs(list(runs), done=done, jobs=jobs, configs=configs, report=report)
        else:
            submit.submit_and_wait(
                list(runs), configs=configs, name=name, output_root=root, profile=profile, report=report
            )

    return train


def report_stages(plan: Plan, report: Callable[[str], None]) -> None:
    """Each registered stage's report of the plan, made when it decided (`Decision.report`; the tuning stage: its
    races, each tuned cell's winner and a warning where its grid may have missed,
    repro/sweep/stages/tune/tune_warnings.py)."""
    for decision in plan.decisions.values():
        for text in decision.report:
            report(text)
