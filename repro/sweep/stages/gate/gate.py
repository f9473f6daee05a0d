"""The baseline gate: before a table spends, the runs of the cells its sweep file names under `gate:`
(repro/sweep/stages/gate/gate_spec.py; say, the one-hot baseline of each column) train first, and their mean over seeds
is
compared with the published number. Within tolerance, the rest of the table goes; outside it, the rest is held and
the verdict says by how much, which recipe choices set a baseline's level and which presets change them.

- `repro sweep FILE` locally trains the gate runs first and goes on in the same command once they pass; on SLURM it
  submits them alone (no job ever waits on a gate) and the next `repro sweep FILE` compares and submits the rest.
- `--accept-gate` goes on anyway; the acceptance is recorded atomically in <output_root>/sweeps/<name>/gate.json
  (for these gate runs: another recipe's gate runs have other ids and are judged afresh) and printed under the table.
- A `cited` cell (the published number comes from another paper's weaker recipe) is reported with its re-run
  evidence and never holds; a gate with `hold: false` (the digits demo) only reports.
- Scaled runs (--epochs, --subset, --test-subset) are not the published protocol: the gate is off for them.
- The gate judges a recipe on the file's full set of seeds: a selection of fewer (`--seeds 0`) is `partial`, holds
  the rest of the table and cannot be accepted.
- Each recipe the gate judged (its gate runs done) is recorded in gate.json's `tried` list and printed under the
  table: a preset is chosen for a published reason (the source's own recipe), not by trying presets until the test
  number lands, which would be selection on the test set; the list shows how many were tried.

`repro sweep status` and `repro tables` show the verdict: the stage's decision (repro/sweep/stages/gate/stage.py:
check, hold, accept), and analysis/tables/notes.py.
"""

from __future__ import annotations

import getpass
import math
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from repro.runs.io import atomic_write_json, read_json
from repro.runs.metrics import is_accuracy
from repro.runs.records import DONE, summary_state
from repro.runs.rundir import RunDir
from repro.sweep.plan import SUBMITTABLE, Decision, Plan
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.stages.gate.gate_report import CellCheck, GateVerdict, recipe_text
from repro.sweep.stages.gate.gate_spec import gate_of
from repro.sweep.sweep_folder import sweep_dir

GATE_FILE = "gate.json"
REPORTED = ("single", "final")


def gate_runs(spec: SweepSpec, runs: Iterable[PlannedRun]) -> tuple[list[PlannedRun], frozenset[str]]:
    """(the gate cells' reported runs, their ids with every run they depend on, transitively)."""
    runs = list(runs)
    gate = gate_of(spec)
    if gate is None:
        return [], frozenset()
    by_id = {r.run_id: r for r in runs}
    reported = [r for r in runs if r.stage in REPORTED and gate.cell(r.row, r.column) is not None]
    ids: set[str] = set()
    todo = [r.run_id for r in reported]
    while todo:
        rid = todo.pop()
        if rid not in ids:
            ids.add(rid)
            todo += list(by_id[rid].depends_on) if rid in by_id else []
    return reported, frozenset(ids)


def evaluate_gate(
    spec: SweepSpec, runs: Iterable[PlannedRun], output_root: str | Path, scale: Scale | None = None
) -> GateVerdict:
    """The gate's verdict for these planned runs (a sweep's expansion) against what is done in `output_root`."""
    gate = gate_of(spec)
    if gate is None:
        return GateVerdict("off", "the sweep file declares no gate")
    if scale is not None and scale.overrides():
        scaled = " ".join(scale.overrides())
        return GateVerdict("off", f"the runs are scaled ({scaled}); the published numbers do not apply to them")
    reported, ids = gate_runs(spec, runs)
    if not reported:
        return GateVerdict("off", "none of the gate's cells is in this selection")
    root = Path(output_root)
    percent = is_accuracy(spec.metric)
    checks: dict[tuple[str, str], CellCheck] = {}
    seen: set[tuple[str, str, str]] = set()
    for run in reported:
        if (run.row, run.column, run.run_id) in seen:
            continue
        seen.add((run.row, run.column, run.run_id))
        cell = checks.setdefault((run.row, run.column), CellCheck(gate.cell(run.row, run.column), 0))
        cell.planned += 1
        value = _metric(RunDir(root / "runs" / run.run_id), spec.metric)
        if value is not None:
            cell.values.append(value * (100.0 if percent else 1.0))
    order = {(c.row, c.column): i for i, c in enumerate(gate.cells)}
    found = sorted(checks.values(), key=lambda c: order[(c.spec.row, c.spec.column)])
    reported_ids = tuple(sorted({r.run_id for r in reported}))
    verdict = GateVerdict(
        "passed",
        checks=found,
        gate_ids=ids,
        reported_ids=reported_ids,
        recipe=recipe_text(reported[0].config, spec.metric),
        source=gate.source,
        sweep=str(spec.path),
    )
    holding = [c for c in found if not c.spec.cited]
    verdict.tried = read_tried(root, spec.name)
    if not gate.hold:
        return replace(verdict, state="advisory", why="gate.hold is false in the sweep file")
    if not holding:
        return replace(verdict, state="cited")
    missing = sorted(set(gate.seeds) - {r.seed for r in reported})
    if missing:
        seeds = ", ".join(map(str, sorted({r.seed for r in reported})))
        why = f"seeds {seeds} of the file's {', '.join(map(str, gate.seeds))}: seed(s) {missing} not in the selection"
        return replace(verdict, state="partial", why=why)
    acceptance = read_acceptance(root, spec.name, reported_ids)
    if not all(c.done for c in holding):
        state = "pending"
    elif any(not c.near for c in holding):
        state = "held"
    else:
        return verdict
    return replace(verdict, state="accepted", acceptance=acceptance) if acceptance else replace(verdict, state=state)


def record_acceptance(verdict: GateVerdict, output_root: str | Path, name: str) -> GateVerdict:
    """Record `--accept-gate` for these gate runs (atomically, in the output root) and return the verdict it
    gives; a gate that holds nothing is left as it is (there is nothing to accept), and so is a partial one (a
    recipe is judged, and accepted, on the file's full set of seeds only)."""
    if not verdict.holds or verdict.state == "partial":
        return verdict
    record = {
        **_read_record(output_root, name),
        "accepted": True,
        "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "by": f"{getpass.getuser()}@{socket.gethostname()}",
        "state": verdict.state,
        "cells": [c.text() for c in verdict.checks],
        "recipe": verdict.recipe,
        "gate_runs": list(verdict.reported_ids),
    }
    atomic_write_json(sweep_dir(output_root, name) / GATE_FILE, record)
    return replace(verdict, state="accepted", acceptance=record)


def read_acceptance(output_root: str | Path, name: str, reported_ids: tuple[str, ...]) -> dict[str, Any] | None:
    """The recorded acceptance, if it was given for exactly these gate runs (another recipe is judged afresh)."""
    record = _read_record(output_root, name)
    ok = record.get("accepted") is True
    return record if ok and tuple(record.get("gate_runs") or ()) == reported_ids else None


def read_tried(output_root: str | Path, name: str) -> list[dict[str, Any]]:
    """Every recipe the gate judged in this output root, oldest first (gate.json's `tried`)."""
    tried = _read_record(output_root, name).get("tried")
    return [dict(t) for t in tried if isinstance(t, Mapping)] if isinstance(tried, list) else []


def record_tried(verdict: GateVerdict, output_root: str | Path, name: str, overrides: list[str]) -> GateVerdict:
    """Record a recipe the gate has judged (its holding cells done: passed or held, accepted or not) in gate.json's
    `tried` list, once per set of gate runs, so that every preset tried is listed under the table."""
    if verdict.state not in ("passed", "held", "accepted"):
        return verdict
    record = _read_record(output_root, name)
    tried = read_tried(output_root, name)
    if any(tuple(t.get("gate_runs") or ()) == verdict.reported_ids for t in tried):
        return verdict
    judged = verdict.state if verdict.state != "accepted" else (verdict.acceptance or {}).get("state", "held")
    tried.append(
        {
            "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "by": f"{getpass.getuser()}@{socket.gethostname()}",
            "verdict": judged,
            "recipe": verdict.recipe,
            "overrides": overrides,
            "cells": [c.text() for c in verdict.checks],
            "gate_runs": list(verdict.reported_ids),
        }
    )
    atomic_write_json(sweep_dir(output_root, name) / GATE_FILE, {**record, "tried": tried})
    return replace(verdict, tried=tried)


def _read_record(output_root: str | Path, name: str) -> dict[str, Any]:
    path = sweep_dir(output_root, name) / GATE_FILE
    if not path.exists():
        return {}
    try:
        record = read_json(path)
    except (OSError, ValueError):
        return {}
    return dict(record) if isinstance(record, Mapping) else {}


def hold(plan: Plan, verdict: GateVerdict) -> int:
    """Mark every run of `plan` that is not a gate run and would be submitted as held; returns how many."""
    if not verdict.holds:
        return 0
    held = 0
    for rid in plan.unique:
        if rid not in verdict.gate_ids and plan.status[rid].state in SUBMITTABLE:
            plan.hold(rid, f"waits for the baseline gate ({verdict.state})")
            held += 1
    return held


def _recipe_overrides(plan: Plan, verdict: GateVerdict) -> list[str]:
    """The gate runs' overrides of the recipe (optim keys and presets: what a preset tried changes)."""
    first = next((plan.unique[r] for r in verdict.reported_ids if r in plan.unique), None)
    return [o for o in (first.overrides if first else ()) if o.startswith("optim")]


def _metric(rd: RunDir, metric: str) -> float | None:
    if summary_state(rd)[0] != DONE:
        return None
    value = (rd.read_summary() or {}).get(metric)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def check(plan: Plan, *, accept: bool = False, record: bool = False) -> Decision:
    """Ask the plan's baseline gate, record `--accept-gate`, hold the runs it holds; with `record` (a sweep that
    trains or submits, not status or a dry run), a recipe judged is added to gate.json's `tried`. Returns the
    verdict as the sweep prints it (none for a sweep file without a gate); the runs it holds (held or partial) make
    `repro sweep` exit 4."""
    verdict = evaluate_gate(plan.spec, plan.runs, plan.output_root, plan.scale)
    if accept:
        verdict = record_acceptance(verdict, plan.output_root, plan.spec.name)
    if record:
        verdict = record_tried(verdict, plan.output_root, plan.spec.name, _recipe_overrides(plan, verdict))
    held = hold(plan, verdict)
    text = verdict.render(held) if gate_of(plan.spec) is not None else ""
    return Decision((text,) if text else ())
