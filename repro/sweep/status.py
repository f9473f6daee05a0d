"""`repro sweep status FILE`: one table of a sweep's runs with their state, and the logs of the failed ones; per
cell what is done; GPU-hours spent and projected; each estimated T and its warnings; each stage's report (the
tuning winners, the baseline gate's verdict)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.methods.registry import method_declaration
from repro.recorders.transition_check import read_record, render_records
from repro.sweep.budget.spend import cells_table, sweep_spend
from repro.sweep.plan import Decision, Plan
from repro.sweep.protocol.base import Asked
from repro.sweep.protocol.registry import stages
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import last_selection
from repro.sweep.sweep_plan import plan_sweep, select


def sweep_status(
    path: str | Path,
    *,
    output_root: str | Path = "outputs",
    scale: Scale | None = None,
    only: Mapping[str, Sequence[Any]] | None = None,
    extra_overrides: Sequence[str] | None = None,
    decision_options: Mapping[str, Any] | None = None,
    gpu_model: str | None = None,
) -> Plan:
    """The plan of the sweep as last run in this output root (its rows, seeds, scale and extra overrides, from
    <output_root>/sweeps/<name>/selection.json), unless the arguments say otherwise, as its stages decide it (the
    runs the baseline gate holds read "held"; nothing is recorded; `decision_options`, the stages' options of a
    command's decision, as `repro sweep` would decide with them: `--max-gpu-hours`, priced at `gpu_model`). Never
    submits anything; reads the expansion `repro sweep` kept where nothing that decides it changed, and writes
    none."""
    spec = load_sweep(path)
    output_root = Path(output_root).expanduser().resolve()
    last = last_selection(output_root, spec.name) or {}
    if only is None and last:
        only = {k: last[k] for k in ("rows", "columns", "seeds") if k in last}
    if scale is None and last.get("scale"):
        scale = Scale.from_record(last["scale"])
    if extra_overrides is None:
        extra_overrides = last.get("extra_overrides", [])
    spec = select(spec, only, scale)
    spec = spec.select(rows=[r for r in spec.rows if r not in spec.needs])
    asked = Asked(options=dict(decision_options or {}), gpu_model=gpu_model)
    return plan_sweep(
        spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides, asked=asked, reuse_kept=True
    )


def render_status(plan: Plan, gpu_name: str | None = None) -> str:
    """Every run's state; per cell its runs done / running / queued; GPU-hours spent and projected
    (repro/sweep/budget/spend.py); each estimated T's record; each registered stage's report and what it said of
    its decision (the tuning stage: each tuned cell's winner and warnings; the baseline gate: its verdict)."""
    said = [plan.decisions.get(stage.key, Decision()) for stage in stages()]
    reports = [text for decision in said for text in (*decision.report, *decision.lines)]
    estimates = render_records(estimate_records(plan))
    return "\n".join(
        [
            plan.runs_table(),
            "",
            cells_table(plan),
            "",
            plan.describe(),
            sweep_spend(plan, gpu_name).render(),
            *estimates,
            *reports,  # each registered stage's, in registry order (tuning's races and winners, the gate's verdict)
        ]
    )


def estimate_records(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """(cell, record) of each estimated T of the plan (repro/recorders/transition_check.py): a run that started wrote
    its own; a run not started yet gets its method's check computed now from its finished estimator
    (`MethodDeclaration.planned_checks`), so the first estimator to finish already tells whether the cells that read it
    will train on a T from a network at chance, before they start."""
    records = []
    for rid, run in plan.unique.items():
        label = f"{run.row} / {run.column}"
        record = read_record(plan.output_root / "runs" / rid)
        if record is not None:
            records.append((label, record))
            continue
        for check in method_declaration(str(run.config["method"]["name"])).planned_checks(run.config):
            records.append((f"{label} (not started; from its estimator)", check))
    return records
