"""Several sweeps of one output root trained here in one go (`run_sweeps_locally`): planned under one sweep lock,
what any of them misses trained at once (a run they share trains once), each plan's stages asked again after it
trained, and a further round for what a stage then released. `repro sweep` with the local executor, `repro demo` and
the benchmarks that train sweeps call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from repro.sweep.ask_stages import decide, decided, report_stages
from repro.sweep.dry_run import check_packing
from repro.sweep.executors.local import run_planned_runs
from repro.sweep.plan import SUBMITTABLE, Plan, make_plan
from repro.sweep.protocol.base import Asked
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.sweep_folder import remember_selection, sweep_dir, write_planned_configs
from repro.sweep.sweep_plan import (
    plan_sweep,
    refuse_rows_that_need_more,
    report_plan,
    slurm_reports,
    sweep_lock_reported,
    to_submit,
)


@dataclass(frozen=True)
class LocalSweep:
    """One sweep (already selected) to run here, at a scale, with extra overrides; `heading` is printed first."""

    spec: SweepSpec
    scale: Scale | None = None
    extra_overrides: tuple[str, ...] = ()
    heading: str | None = None
    # the stages' options of what this call decides (`StageFlag.decides`: `--accept-gate` goes on past a baseline
    # gate that holds, and records it)
    decision_options: Mapping[str, Any] = field(default_factory=dict)
    gpu_model: str | None = None  # the calibration its decisions price at (`--max-gpu-hours`; None: this machine's)

    def asked(self) -> Asked:
        """How its stages are asked to decide: record, with this call's decision options, at its calibration."""
        return Asked(record=True, options=self.decision_options, gpu_model=self.gpu_model)


def run_sweeps_locally(
    sweeps: Sequence[LocalSweep],
    *,
    output_root: str | Path,
    jobs: int | None = 1,
    threads: int | None = None,
    report: Callable[[str], None] = print,
    runs_per_gpu: int = 1,
    gpu_model: str | None = None,
) -> list[Plan]:
    """Plan several sweeps of one output root (under one sweep lock), train what any of them misses here in one go
    (up to `jobs` at once; a run that several sweeps share trains once), then find each run's state again. A sweep
    whose stages held runs until the runs they wait for were done (the baseline gate, repro/sweep/stages/gate/gate.py;
    the estimated-T hold, repro/sweep/stages/estimated_t/) gets a further round for what they then let go, until no
    stage releases more; a run this call already trained or failed is not trained again. Returns the plans after
    training, each with `submitted` / `failed` = its runs trained / failed or skipped by this call."""
    for sweep in sweeps:
        refuse_rows_that_need_more(sweep.spec)
    output_root = Path(output_root).expanduser().resolve()
    with sweep_lock_reported(output_root, report):
        plans = [_plan_here(sweep, output_root, report) for sweep in sweeps]
        for plan in plans:
            check_packing(plan, runs_per_gpu, gpu_model, None, report)
        ran: list[str] = []
        failed: list[str] = []
        rounds = list(range(len(plans)))
        while rounds:  # later rounds: only what a stage released once the runs it waited for were done
            tried = {*ran, *failed}  # trained or failed by this call: not trained again in it
            todo = {i: [r for r in plans[i].to_submit if r.run_id not in tried] for i in rounds}
            trained = [i for i in rounds if todo[i]]
            if not trained:
                break
            configs: dict[str, Path] = {}
            for i in trained:  # a run several sweeps share trains from its first sweep's planned config
                folder = sweep_dir(output_root, plans[i].spec.name)
                configs = {**write_planned_configs(folder, todo[i]), **configs}
            got, lost = run_planned_runs(
                list({r.run_id: r for i in trained for r in todo[i]}.values()),
                done={rid for plan in plans for rid in plan.done},
                jobs=jobs,
                threads=threads,
                metric=plans[0].spec.metric,
                configs=configs,
                report=report,
                runs_per_gpu=runs_per_gpu,
            )
            ran, failed = ran + got, [rid for rid in failed if rid not in got] + lost
            held = {i: plans[i].held for i in trained}
            for i in trained:
                plans[i] = _after_training(plans[i], sweeps[i], ran, failed, report)
            rounds = [i for i in trained if any(plans[i].status[rid].state in SUBMITTABLE for rid in held[i])]
        return plans


def _plan_here(sweep: LocalSweep, output_root: Path, report: Callable[[str], None]) -> Plan:
    """Plan one sweep to train here: report it, its stages' decisions (the baseline gate holds runs) and remember
    what it was asked for."""
    if sweep.heading:
        report(sweep.heading)
    plan = plan_sweep(
        sweep.spec,
        output_root=output_root,
        scale=sweep.scale,
        extra_overrides=sweep.extra_overrides,
        asked=sweep.asked(),
        keep=True,
    )
    report_plan(plan, report)
    remember_selection(sweep_dir(output_root, sweep.spec.name), sweep.spec, sweep.scale, sweep.extra_overrides)
    for text in decided(plan):
        report(text)
    if not to_submit(plan, report):
        report_stages(plan, report)
    return plan


def _after_training(
    plan: Plan, sweep: LocalSweep, ran: list[str], failed: list[str], report: Callable[[str], None]
) -> Plan:
    """The plan's runs' states after this call trained `ran` (and `failed`), found again without re-planning, and
    its stages asked again (the runs a stage waited for may be done now)."""
    again = make_plan(plan.spec, plan.runs, plan.output_root, job_states=slurm_reports(plan.output_root))
    again.scale = plan.scale
    decide(again, sweep.asked())
    again.submitted = [rid for rid in ran if rid in again.unique]
    again.failed = [rid for rid in failed if rid in again.unique]
    report(again.describe())
    for text in decided(again):
        report(text)
    report_stages(again, report)
    return again
