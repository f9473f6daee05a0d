"""The tuning stage (`tune:`) as a registered stage (repro/sweep/protocol/base.py): its key, on a row, a column or the
whole file (tune_spec.py); a tuned cell's tuning runs, before its seeds' runs (tuning_runs.py, halving_runs.py); its
decision on a plan (successive halving's rung jobs settled, halving_state.py); what it reports, prices and does when a
run starts; and its preflight (preflight.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from repro.sweep.protocol.base import (
    Asked,
    Decision,
    DryRun,
    KeyAt,
    Place,
    Plan,
    Preflight,
    Prepared,
    Stage,
    TableNotes,
)
from repro.sweep.protocol.cell import Cell, CellRuns
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.stages.tune import rung_job, tuning, tuning_runs
from repro.sweep.stages.tune.halving_cost import cost_figures, strategy_costs
from repro.sweep.stages.tune.halving_state import render_races, settle
from repro.sweep.stages.tune.preflight import (
    declared_preflight,
    declared_preflight_text,
    declares_preflight,
    run_preflight,
)
from repro.sweep.stages.tune.tune_graph import has_tuning, tuning_graph
from repro.sweep.stages.tune.tune_notes import settle_takes, tuning_heading
from repro.sweep.stages.tune.tune_report import cell_tunings, render_tunings
from repro.sweep.stages.tune.tune_spec import KEY, SEEDS_FLAG, STRATEGY_FLAG, TuneSpec, read_tune


class TuneStage(Stage):
    key = KEY
    places = frozenset({Place.FILE, Place.ROW, Place.COLUMN})
    flags = (STRATEGY_FLAG, SEEDS_FLAG)

    def read(self, value: Any, at: KeyAt) -> TuneSpec | None:
        """`tune: null` on a row is no tuning for it (not the column's or the file's)."""
        return read_tune(value, at.path, at.where, at.seeds[0])

    def plan_cell(self, cell: Cell) -> CellRuns | None:
        """A tuned cell's tuning runs, before its seeds' runs, which take its `tune=...` override and wait for them;
        a tuned run that is its winning tuning run trains nothing (tuning_runs.py)."""
        return tuning_runs.cell_tuning(cell)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """Successive halving's rung jobs settled: done where their run got there or was left behind, and the
        epochs each is still expected to train (halving_state.py); each tuned run that trains nothing, the winning
        tuning run whose records it takes, once its tuning runs are done (`plan.takes`, tune_notes.py). Nothing is
        held. Its report: the races (each rung's ranking, who went on), then each tuned cell's winner; in a dry run,
        its graphs and prices."""
        settle(plan)
        settle_takes(plan)
        report = tuple(text for text in (render_races(plan), render_tunings(cell_tunings(plan))) if text)
        return Decision(report=report, dry_run=self._dry_run(plan, asked.gpu_model) if asked.dry_run else DryRun())

    def notes(self, plan: Plan) -> TableNotes:
        """Beside a table's header: what each tuned row tuned, where and how (tune_notes.py)."""
        return TableNotes(heading=tuning_heading(plan))

    def _dry_run(self, plan: Plan, gpu_model: str | None) -> DryRun:
        """Per tuned cell, its tuning runs and the runs that wait for them (tune_graph.py); the preflight its cells
        declare; the grid's GPU-hours beside successive halving's (halving_cost.py); docs/costs.md's figures."""
        costs = strategy_costs(plan, gpu_model)
        runs, hours, cells = declared_preflight(plan, gpu_model)
        preflight = declared_preflight_text(runs, hours, cells)
        return DryRun(
            graphs=(tuning_graph(plan),) if has_tuning(plan) else (),
            prices=tuple(text for text in (preflight, costs.render() if has_tuning(plan) else "") if text),
            figures=cost_figures(costs, runs, hours),
        )

    def prepare(self, prepared: Prepared) -> Prepared:
        """A rung's job: promoted to its rung? (if not, it trains nothing), then its epoch limit. A tuned run: the
        winner of its finished tuning runs into its config (same run id), and what was tuned into its summary; where
        the winner's tuning run of its seed is its very training, that run (`same_as`)."""
        config: dict[str, Any] = prepared.config
        rung = rung_job.gate(config)
        if rung is not None and not rung.promoted:
            return replace(prepared, skip=rung.why)
        same_as = ""
        if tuning.tuned_keys(config):
            config = tuning.apply(config)
            # the winner's tuning run of this run's seed may be this very training (`where: []`): not trained twice
            same_as = tuning.same_training(config).get(tuple(config["tune"]["chosen"]), "")
        return replace(
            prepared,
            config=config,
            limit=rung_job.limit(config) or prepared.limit,
            summary_fields={**prepared.summary_fields, **tuning.summary_fields(config)},
            same_as=same_as or prepared.same_as,
        )

    def preflight(self, spec: SweepSpec, plan: Callable[[], Plan], how: Preflight) -> list[PlannedRun]:
        """The tuned cells' grid corners, trained for a few epochs (preflight.py): those of the cells whose stage
        declares `preflight: true` and is not done (`how.declared`), or every tuned cell's."""
        if how.declared and not declares_preflight(spec):
            return []
        return run_preflight(plan(), how)
