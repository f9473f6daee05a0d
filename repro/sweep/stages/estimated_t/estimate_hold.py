"""The estimated-T hold: in a sweep, the runs that correct their loss with an estimated noise transition matrix T
(Patrini et al.'s anchor points, repro/methods/loss_correction.py) wait until the first run of their estimate has
recorded it (repro/recorders/transition_check.py: an estimator network at chance, inside its lr warm-up, or a near
uniform T are flagged). A flagged estimate keeps its other runs held, with a paragraph saying what was flagged, by
which run, and how to release them; an unflagged one releases them. So the user learns it from the first run, before
the rest of the table's estimated-T cells spend.

Which runs: those whose method says that they build an estimate (`MethodDeclaration.estimate_key`, a fact of the method
and its config: loss correction with transition=estimated), never a method's name.

The grain: one estimate per key, i.e. per estimator run, rule (`method.estimate_at`), anchor percentile, data,
noise (and, for estimate_at=final, the run's split), what the estimate reads (repro/methods/estimated_transition.py
caches it by the same inputs). The runs of one key build the very same T, so the first one's record is exactly
every one's: holding them never keeps back a run whose T might have been fine, and releasing them is right for each.
A coarser grain (the table's first estimate for every cell) would judge one estimator network by another's: the
flags are facts of one network at one epoch, and a network that learns at 20% noise may be at chance at 80%. The
price is one run per estimate before its others; the first flagged one already says what to change for the recipe
(each flag names the rule and the fix).

Where an estimate's record comes from: the first of its runs that wrote `<run>/transition_estimate.json` (before its
first epoch), else the check its method computes before any run starts from the finished estimator
(`MethodDeclaration.planned_checks`: estimate_at=noisy_val_loss / best_val, from what the estimator kept), the same
record, so then not even the first run spends on a flagged T. Without either, the first of its runs that is not done
goes (the "first run"), the others wait. A flagged estimate holds every run of it still to submit (a first run that was
interrupted after recording its T too); a run that waits for a held run is held with it.

Release: an unflagged record; `estimated_t: {accept: [<estimator run id>]}` in the sweep file (estimated_t_spec.py);
or another rule (`method.estimate_at=best_val`, say): other runs, another estimate, judged afresh. Scaled sweeps
(--epochs, --subset, --test-subset) are not held, as the baseline gate is off for them: a scaled preview is cheap, and
an estimator of a few epochs is often flagged; their flags are still shown by `repro sweep status`.

Locally, repro/sweep/run_local.py trains what the hold released in a further round of the same command, as it does
for the baseline gate; on SLURM the next `repro sweep` releases it, once the first run has started (it writes its record
before its first epoch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repro.methods.registry import method_declaration
from repro.recorders.transition_check import read_record
from repro.sweep.plan import SUBMITTABLE, Plan
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.estimated_t.estimated_t_spec import EstimatedTSpec

SHOWN = 3  # flagged estimates spelled out in the held paragraph; the rest are counted


@dataclass
class Estimate:
    """One estimated T of a plan: the runs that build it (plan order) and its record, once known."""

    runs: list[PlannedRun]
    record: dict[str, Any] | None = None
    recorded_by: str = ""  # the run whose transition_estimate.json it is; "" computed from the finished estimator

    @property
    def warnings(self) -> list[str]:
        return [str(w) for w in (self.record or {}).get("transition_estimate_warnings") or []]

    @property
    def estimator(self) -> str:
        return str((self.record or {}).get("estimator_run", ""))

    def text(self, by_id: dict[str, PlannedRun]) -> str:
        """'the estimate of estimator run E (rule R), recorded by run X (row / column, seed s): warnings'."""
        rule = (self.record or {}).get("estimate_at")
        if self.recorded_by:
            run = by_id[self.recorded_by]
            source = f"recorded by run {run.run_id} ({run.row} / {run.column}, seed {run.seed})"
        else:
            source = "computed from what the estimator kept, before any of its runs started"
        return f"the estimate of estimator run {self.estimator} (method.estimate_at={rule}), {source}: " + "; ".join(
            self.warnings
        )


@dataclass
class Held:
    """What the hold did to a plan: per estimate still unknown, its first run and the runs held for it; the flagged
    estimates with the runs they hold; the flagged ones accepted; the runs held because they wait for a held run
    (a tuned run of estimate_at=final, whose tuning runs train on another split, so another estimate)."""

    waiting: dict[str, list[str]] = field(default_factory=dict)
    flagged: list[tuple[Estimate, list[str]]] = field(default_factory=list)
    accepted: list[Estimate] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    scaled: str = ""  # the scale's overrides where the hold is off for them


def plan_estimates(plan: Plan) -> list[Estimate]:
    """Every estimated T the plan's runs build, in plan order, each with its record where one is known."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in plan.unique.values():
        key = method_declaration(str(run.config["method"]["name"])).estimate_key(run.config)
        if key is not None:
            groups.setdefault(key, []).append(run)
    return [_recorded(plan, runs) for runs in groups.values()]


def _recorded(plan: Plan, runs: list[PlannedRun]) -> Estimate:
    for run in runs:
        record = read_record(plan.output_root / "runs" / run.run_id)
        if record is not None:
            return Estimate(runs, record, run.run_id)
    first = runs[0]
    checks = method_declaration(str(first.config["method"]["name"])).planned_checks(first.config)
    return Estimate(runs, checks[0] if checks else None)


def hold_estimates(plan: Plan, setting: EstimatedTSpec | None) -> Held:
    """Mark the plan's runs that the hold keeps back `held` (with why, in their status) and say what it decided."""
    accept = set(setting.accept) if setting is not None else set()
    scaled = plan.scale.overrides() if plan.scale is not None else []
    if not scaled and not any(plan.status[rid].state in SUBMITTABLE for rid in plan.unique):
        return Held()  # nothing left to hold (a finished sweep's report): no estimate need be asked of its methods
    estimates = plan_estimates(plan)
    if scaled:
        return Held(flagged=[(e, []) for e in estimates if e.warnings], scaled=" ".join(scaled))
    decision = Held()
    held: dict[str, str] = {}
    for estimate in estimates:
        states = {r.run_id: plan.status[r.run_id].state for r in estimate.runs}
        waiting = [rid for rid, state in states.items() if state in SUBMITTABLE]
        if estimate.record is None:
            first = next((rid for rid, state in states.items() if state != "done"), None)
            ids = [rid for rid in waiting if rid != first]
            why = f"waits for run {first}, the first of its estimate, to record the estimated T (estimated-T hold)"
            if ids and first is not None:
                decision.waiting[first] = ids
                held.update(dict.fromkeys(ids, why))
        elif not waiting or not estimate.warnings:  # nothing left to hold, or nothing flagged: it says nothing
            continue
        elif estimate.estimator in accept:
            decision.accepted.append(estimate)
        else:
            decision.flagged.append((estimate, waiting))
            by = estimate.recorded_by or "its estimator's check"
            held.update(dict.fromkeys(waiting, f"its estimated T is flagged ({by}; estimated-T hold)"))
    for rid, run in plan.unique.items():  # in plan order: a run after the runs it depends on
        blocked = [d for d in run.depends_on if d in held]
        if rid not in held and blocked and plan.status[rid].state in SUBMITTABLE:
            held[rid] = f"waits for run {blocked[0]}, held by the estimated-T hold"
            decision.after.append(rid)
    for rid, why in held.items():
        plan.hold(rid, why)
    return decision


def render(decision: Held, plan: Plan) -> list[str]:
    """The hold's paragraphs for the sweep's output and `repro sweep status` (none where it has nothing to say)."""
    by_id = dict(plan.unique)
    flagged = decision.flagged
    if decision.scaled:
        if not flagged:
            return []
        return [
            f"Estimated T: {len(flagged)} estimate(s) flagged (`repro sweep status` shows them), not held: the runs "
            f"are scaled ({decision.scaled}), a preview, whose short estimators are often flagged."
        ]
    lines = []
    if decision.waiting:
        firsts = _some(list(decision.waiting))
        lines.append(
            f"Estimated T: {sum(map(len, decision.waiting.values()))} run(s) wait for the first run of the estimated "
            f"T they would train with to record it ({len(decision.waiting)} estimate(s); first run(s): {firsts}). A "
            "record without warnings releases them; a flagged one (an estimator network at chance, inside its lr "
            "warm-up, or a near-uniform T) keeps them held. Locally this command goes on by itself once those runs "
            "are done; on SLURM run the same command again once they have started (each records its T before its "
            "first epoch)."
        )
    if flagged:
        lines.append(_held_paragraph(flagged, by_id, plan.spec.path))
    if decision.after and lines:
        lines[0] += f" {len(decision.after)} more run(s) wait for runs held here ({_some(decision.after)})."
    if decision.accepted:
        ids = ", ".join(dict.fromkeys(e.estimator for e in decision.accepted))
        lines.append(
            f"Estimated T: the flagged estimate(s) of estimator run(s) {ids} are accepted in the sweep file "
            "(estimated_t.accept): their runs train with them; the warnings stay in each run's summary and in "
            "`repro sweep status`."
        )
    return lines


def _held_paragraph(flagged: list[tuple[Estimate, list[str]]], by_id: dict[str, PlannedRun], path: Any) -> str:
    held = sum(len(ids) for _, ids in flagged)
    shown = "; ".join(e.text(by_id) for e, _ in flagged[:SHOWN])
    more = f" (and {len(flagged) - SHOWN} more estimate(s) flagged)" if len(flagged) > SHOWN else ""
    estimators = ", ".join(dict.fromkeys(e.estimator for e, _ in flagged))
    cells = ", ".join(dict.fromkeys(f"{by_id[rid].row} / {by_id[rid].column}" for _, ids in flagged for rid in ids))
    return (
        f"HELD by the estimated-T check: {held} run(s) wait{f' ({cells})' if cells else ''}, because the T they "
        f"would train with is flagged: {shown}{more}. To go on, pick the estimator's network by another rule "
        "(method.estimate_at=best_val, say, in those rows' overrides: other runs, whose estimate is checked afresh), "
        f"or accept these estimates: add `estimated_t: {{accept: [{estimators}]}}` to {path} (their warnings stay "
        "in each run's summary and in `repro sweep status`)."
    )


def _some(ids: list[str], shown: int = 3) -> str:
    """The first `shown` run ids and how many more: a table's hold names hundreds of runs (`repro sweep status` lists
    them all)."""
    more = len(ids) - shown
    return ", ".join(ids[:shown]) + (f" and {more} more" if more > 0 else "")
