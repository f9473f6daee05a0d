"""What the sweep asks of every registered stage once its runs are planned (repro/sweep/protocol/base.py, the protocol):
their decisions on a plan (`decide`: the runs a stage holds or settles, what it records), their reports (`report`),
and their preflights (`run_preflights`, trained with the sweep's executor: repro/sweep/executors/elsewhere.py).
repro/sweep/sweep_plan.py, repro/sweep/run_local.py, repro/sweep/run.py, repro/sweep/command.py and the results index
(repro/sweep/index.py) ask through here; no stage is named, and no executor is imported (the index needs none)."""

from __future__ import annotations

from typing import Callable

from repro.sweep.plan import Plan
from repro.sweep.protocol.base import Asked, Preflight
from repro.sweep.protocol.registry import stages
from repro.sweep.spec.model import PlannedRun, SweepSpec

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


def report_stages(plan: Plan, report: Callable[[str], None]) -> None:
    """Each registered stage's report of the plan, made when it decided (`Decision.report`; the tuning stage: its
    races, each tuned cell's winner and a warning where its grid may have missed,
    repro/sweep/stages/tune/tune_warnings.py)."""
    for decision in plan.decisions.values():
        for text in decision.report:
            report(text)
