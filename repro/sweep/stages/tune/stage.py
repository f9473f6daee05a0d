"""The tuning stage (`tune:`) as a registered stage (repro/sweep/stages/base.py): its key, on a row, a column or the
whole file (tune_spec.py); a tuned cell's tuning runs, before its seeds' runs (tuning_runs.py, halving_runs.py);
what it reports, prices and does when a run starts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from repro.sweep.expand.overrides import Override
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.base import Cell, KeyAt, Place, Plan, Prepared, Stage
from repro.sweep.stages.tune import rung_job, tuning, tuning_runs
from repro.sweep.stages.tune.halving_cost import strategy_costs
from repro.sweep.stages.tune.halving_state import render_races
from repro.sweep.stages.tune.tune_graph import has_tuning, tuning_graph
from repro.sweep.stages.tune.tune_report import cell_tunings, render_tunings
from repro.sweep.stages.tune.tune_spec import TuneSpec, read_tune


class TuneStage(Stage):
    key = "tune"
    places = frozenset({Place.FILE, Place.ROW, Place.COLUMN})

    def read(self, value: Any, at: KeyAt) -> TuneSpec | None:
        """`tune: null` on a row is no tuning for it (not the column's or the file's)."""
        return read_tune(value, at.path, at.where, at.seeds[0])

    def plan_cell(self, cell: Cell) -> tuple[list[PlannedRun], list[Override], tuple[str, ...]] | None:
        """A tuned cell's tuning runs, before its seeds' runs, which take its `tune=...` override (tuning_runs.py)."""
        return tuning_runs.cell_tuning(cell)

    def graph(self, plan: Plan) -> list[str]:
        """Per tuned cell, its tuning runs and the runs that wait for them (tune_graph.py)."""
        return [tuning_graph(plan)] if has_tuning(plan) else []

    def report(self, plan: Plan) -> list[str]:
        """Successive halving's races (each rung's ranking, who went on), then each tuned cell's winner."""
        return [text for text in (render_races(plan), render_tunings(cell_tunings(plan))) if text]

    def price(self, plan: Plan, gpu_model: str | None) -> list[str]:
        """The grid's GPU-hours beside successive halving's (halving_cost.py)."""
        return [strategy_costs(plan, gpu_model).render()] if has_tuning(plan) else []

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
