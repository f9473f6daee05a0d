"""What `repro sweep FILE --dry-run` prints beside the plan: the tuned cells' and the students' dependency graphs, the
GPU-hour estimate (packed runs priced from a measured concurrency), each epoch's price, then the stages' prices (the
declared preflight, the tuning stages under both strategies) and what the seeds can decide of the table's claims
(repro/claims/seed_power.py); and the check that K packed runs fit the GPU, made before anything is
submitted (repro/sweep/run.py calls both)."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from repro.claims.seed_power import seed_power_text
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import step_kind
from repro.sweep.budget.epoch_prices import epoch_table
from repro.sweep.budget.estimate import plan_estimate
from repro.sweep.budget.packing import check_fits, packing_line
from repro.sweep.cluster_profile import ClusterProfile
from repro.sweep.plan import Plan

Report = Callable[[str], None]


def model_kind(config: Mapping[str, Any]) -> tuple[str, str]:
    """A run's (model, step kind): what a packed run is priced and memory-checked by (repro/sweep/budget/packing.py;
    `repro plan --runs-per-gpu` checks its commands' runs by it too)."""
    return str(config["model"]["name"]), step_kind(config).key


def _model_kinds(plan: Plan) -> list[tuple[str, str]]:
    """The (model, step kind) of each run of the plan."""
    return [model_kind(r.config) for r in plan.unique.values()]


def check_packing(plan: Plan, k: int, gpu_model: str | None, profile: ClusterProfile | None, report: Report) -> None:
    """K runs per GPU must fit its memory (repro/sweep/budget/packing.py); said where it could not be checked."""
    if k <= 1:
        return
    note = check_fits(_model_kinds(plan), k, load_calibration(gpu_model), profile and profile.gpu_memory_gb)
    if note:
        report(note)


def report_dry_run(plan: Plan, gpu_model: str | None, report: Callable[[str], None], runs_per_gpu: int = 1) -> None:
    """The registered stages' dependency graphs (tuned cells, students), the GPU-hour estimate, then their prices."""
    said = [decision.dry_run for decision in plan.decisions.values()]  # the stages', asked with `Asked.dry_run`
    for text in (text for dry in said for text in dry.graphs):
        report(text)
    report(plan_estimate(plan, gpu_model, runs_per_gpu).render())
    if runs_per_gpu > 1:
        report(packing_line(load_calibration(gpu_model), _model_kinds(plan), runs_per_gpu))
    report(epoch_table((r.config for r in plan.unique.values()), load_calibration(gpu_model)))
    for text in (text for dry in said for text in dry.prices):  # the declared preflight; tuning: grid beside halving
        report(text)
    if decidable := seed_power_text(plan):  # what the seeds can decide of the table's claims (repro/claims/)
        report(decidable)
