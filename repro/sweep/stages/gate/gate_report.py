"""The baseline gate's verdict and how it reads: each gate cell's check (ours against the published number), the
gate's state, the sentence the sweep prints for it, the note under a rendered table, and the recipe choices that set
a baseline's level with the presets that change them. repro/sweep/stages/gate/gate.py evaluates it."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Mapping

from repro.sweep.stages.gate.gate_spec import GateCellSpec

HOLDING = ("pending", "partial", "held")  # the states that hold the rest of the table
# Said wherever a preset is offered (the held message, docs/cluster.md "The baseline gate").
PUBLISHED_REASON = (
    "Choose a preset only for a published reason (the source's own code or paper names that schedule, warm-up or "
    "optimizer), not by trying presets until the test number lands: that is selection on the test set. Every recipe "
    "the gate judges is recorded in gate.json and listed under the table."
)
# The recipe presets that change a baseline's level (repro/conf/optim/<choice>/, docs/choices.md).
PRESETS = (
    "optim/schedule=step",
    "optim/schedule=cosine_floor",
    "optim/nesterov=off",
    "optim/warmup=none",
    "optim/lookahead_lr=peak",
)


@dataclass
class CellCheck:
    """One gate cell: its published number and what its reported runs reached (percent for accuracies)."""

    spec: GateCellSpec
    planned: int
    values: list[float] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.planned > 0 and len(self.values) == self.planned

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def gap(self) -> float:
        return self.mean - self.spec.number

    @property
    def seed_noise(self) -> float:
        """What our own seeds can resolve: std_factor x the standard error of our mean (0 with one run). A tolerance
        sized for a 0.2-point effect may be narrower than that: the gate still holds (it is not passed by noisy
        seeds), and the verdict says that the gap is within our seeds' noise, so more seeds, or `--accept-gate`
        with its record, decide, not another preset."""
        if len(self.values) < 2:
            return 0.0
        return self.spec.std_factor * statistics.stdev(self.values) / math.sqrt(len(self.values))

    @property
    def near(self) -> bool:
        return self.done and abs(self.gap) <= self.spec.allowed + 1e-9

    def ours(self) -> str:
        if not self.values:
            return f"0 of {self.planned} runs done"
        std = f" ± {statistics.stdev(self.values):.2f}" if len(self.values) > 1 else ""
        counted = f"n={len(self.values)}" + ("" if self.done else f" of {self.planned}")
        return f"{self.mean:.2f}{std} ({counted})"

    def text(self) -> str:
        cell = f"{self.spec.row} / {self.spec.column}: ours {self.ours()} vs {self.spec.number_text()}"
        if not self.done:
            cell += " (waiting for its runs)"
        else:
            verdict = "within" if self.near else "OUTSIDE"
            cell += f": gap {self.gap:+.2f} points, {verdict} the tolerance {self.spec.allowed:.2f}"
            cell += f" ({self.spec.rule_text()}"
            cell += ")"
            if not self.near and abs(self.gap) <= self.seed_noise:
                cell += (
                    f" [the gap is within our {len(self.values)} seeds' noise, {self.spec.std_factor:g} x their "
                    f"standard error = {self.seed_noise:.2f}: they cannot resolve the effect this cell is sized for; "
                    "more seeds, or --accept-gate with its record, decide, not another preset]"
                )
        if self.spec.cited:
            cell += f" [cited, not a number of this recipe: {self.spec.cited}"
            cell += f"; re-run evidence: {' '.join(self.spec.evidence.split())}]" if self.spec.evidence else "]"
            cell += "; reported, never holds"
        return cell


@dataclass
class GateVerdict:
    """off | advisory | cited | pending | partial | passed | held | accepted, and why; `gate_ids` are the gate runs
    and every run they depend on (they train first); `holds`: the other runs wait; `tried`: every recipe the gate
    judged in this output root (gate.json)."""

    state: str
    why: str = ""
    checks: list[CellCheck] = field(default_factory=list)
    gate_ids: frozenset[str] = frozenset()
    reported_ids: tuple[str, ...] = ()
    acceptance: dict[str, Any] | None = None
    recipe: str = ""
    source: str = ""
    sweep: str = ""
    tried: list[dict[str, Any]] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.state in HOLDING

    def render(self, held: int = 0) -> str:
        """The verdict as the sweep's output prints it (`held`: how many runs this call leaves waiting)."""
        if self.state == "off":
            return f"baseline gate: off ({self.why})"
        head = f"baseline gate ({self.source or 'published numbers'}; each cell's tolerance sized by the file's rule, "
        head += f"repro/sweep/stages/gate/gate_spec.py): {self.state.upper()}"
        lines = [head, *[f"  {c.text()}" for c in self.checks]]
        lines.append(self._sentence(held))
        if self.tried:
            lines.append(self.tried_text())
        return "\n".join(lines)

    def tried_text(self) -> str:
        """The recipes the gate judged, oldest first (what a reader of the table needs to weigh the verdict)."""
        items = [
            f"({i}) {t.get('recipe', '?')}"
            + (f" [{' '.join(t['overrides'])}]" if t.get("overrides") else "")
            + f": {t.get('verdict', '?')} on {t.get('at', '?')}"
            for i, t in enumerate(self.tried, 1)
        ]
        return f"Recipes tried at this gate ({len(items)}): " + "; ".join(items) + "."

    def _sentence(self, held: int) -> str:
        waiting = f"the other {held} run(s) of the table" if held else "the rest of the table"
        if self.state == "pending":
            return (
                f"The gate's {len(self.gate_ids)} run(s) train first; {waiting} wait for them. Locally this command "
                "goes on by itself once they pass; on SLURM run the same command again when they are done (no job "
                "waits on a gate)."
            )
        if self.state == "partial":
            return (
                f"PARTIAL ({self.why}): the gate judges a recipe on the file's full set of seeds, so nothing else of "
                f"the table is released and the gate cannot be accepted. Run it without --seeds (or with every seed)."
            )
        if self.state == "held":
            return (
                f"HELD: nothing else of the table starts ({held} run(s) wait), because the recipe does not land on "
                f"the published baseline. The "
                f"recipe: {self.recipe}. These choices set a baseline's level; each has a preset, one override on the "
                f"gate rows first (docs/choices.md): {', '.join(PRESETS)}, e.g. `repro sweep {self.sweep} --rows "
                f"{_quoted(self.checks[0].spec.row)} optim/schedule=step`. {PUBLISHED_REASON} To go on with this "
                "recipe anyway: "
                f"`repro sweep {self.sweep} --accept-gate` (recorded, and printed under the table)."
            )
        if self.state == "accepted":
            a = self.acceptance or {}
            return (
                f"ACCEPTED by {a.get('by', '?')} on {a.get('at', '?')} while the gate was {a.get('state', '?')}: the "
                "table goes on with this recipe, and `repro tables` says so under it."
            )
        if self.state == "passed":
            return "Passed: the recipe lands on the published baseline; the rest of the table goes."
        if self.state == "cited":
            return (
                "Every number of this gate is cited from another paper's weaker recipe: reported beside ours, "
                "never held (the evidence says where a re-run of that recipe lands)."
            )
        return f"Advisory ({self.why}): reported, never held."

    def note(self) -> str:
        """One paragraph for under a rendered table."""
        if self.state == "off":
            return ""
        cells = "; ".join(c.text() for c in self.checks)
        text = f"Baseline gate ({self.source or 'published numbers'}): {self.state}. {cells}."
        if self.state == "accepted":
            a = self.acceptance or {}
            text += f" Accepted with `--accept-gate` by {a.get('by', '?')} on {a.get('at', '?')} ({a.get('state')})."
        if self.state == "partial":
            text += f" Partial: {self.why}."
        if self.tried:
            text += " " + self.tried_text()
        return text


def recipe_text(config: Mapping[str, Any], metric: str) -> str:
    """The choices that set a baseline's level, as the gate run's config has them."""
    o = config["optim"]
    length = f"{o['iterations']} iterations" if o.get("iterations") else f"{o['epochs']} epochs"
    schedule = str(o["schedule"])
    if schedule == "cosine":
        floor = float(o.get("lr_floor") or 0.0)
        schedule = "cosine to 0" if not floor else f"cosine to {floor:g} x the peak"
    elif schedule == "multistep":
        at = o.get("milestone_iterations") if o.get("iterations") else o.get("milestones")
        schedule = f"step decay x{o['gamma']:g} at {list(at or [])}"
    warmup = int(o.get("warmup_epochs") or 0)
    return (
        f"lr {o['lr']:g}, weight decay {o['weight_decay']:g}, momentum {o['momentum']:g} "
        f"({'Nesterov' if o['nesterov'] else 'no Nesterov'}), {warmup or 'no'} warm-up epoch(s), {schedule}, {length}, "
        f"batch {config['data']['batch_size']}; the table reports {metric}"
        + (" (the final epoch)" if metric.startswith("final_") else "")
    )


def _quoted(text: str) -> str:
    return text if text.replace("_", "").isalnum() else f"'{text}'"
