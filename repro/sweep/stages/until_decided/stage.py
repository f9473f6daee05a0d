"""Seeds where a claim is undecided (`until_decided:`, `repro sweep FILE --until-decided`) as a registered stage
(repro/sweep/protocol/base.py): its key (until_decided_spec.py); the further rounds of seeds planned for the cells of
the claim lines the paper's spread says are decidable within the most seeds, each run priced at its round's chance
of being needed (pricing.py); its decision on a plan, holding each round's runs no undecided line needs (rounds.py),
recorded in the sweep folder for the ledger; its report and its dry-run prices (render.py, pricing.py).

Locally, a sweep trains its seeds, decides, trains the round it let go, and so on in one command
(repro/sweep/run_local.py's rounds); on SLURM each `repro sweep` submits the round the previous one's runs released."""

from __future__ import annotations

from dataclasses import replace

from repro.claims.sequential_record import write_record
from repro.errors import UserError
from repro.sweep.protocol.base import Asked, Decision, DryRun, FlagsGiven, Plan, Selection, Stage, StageFlag
from repro.sweep.protocol.cell import Cell, CellRuns
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.stages.until_decided.pricing import cell_chance, line_chances, price_text
from repro.sweep.stages.until_decided.render import lines_text, rounds_text
from repro.sweep.stages.until_decided.rounds import hold_undecided, phase_of, round_of, walk_lines
from repro.sweep.stages.until_decided.table_lines import REPORTED, claim_lines, declares_collapse, floor_of
from repro.sweep.stages.until_decided.until_decided_spec import (
    KEY,
    UntilDecidedKey,
    design_of,
    further_seeds,
    kept_design,
)
from repro.sweep.sweep_folder import sweep_dir


def _check_max_seeds(max_seeds: int, given: FlagsGiven) -> None:
    if max_seeds < 2 or not given.options.get("until_decided"):
        raise UserError(
            f"--max-seeds {max_seeds}: the most seeds per cell a sweep with --until-decided adds up to (at least "
            "2, the fewest an interval needs). Give it with --until-decided, e.g. --until-decided --max-seeds 10."
        )


class UntilDecidedStage(Stage):
    key = KEY
    Spec = UntilDecidedKey
    flags = (
        StageFlag(
            "--until-decided",
            "after the file's seeds, add seeds in rounds (up to --max-seeds per cell) to exactly the rows of each "
            "claim line still undecided, stopping each line by a group-sequential design (docs/sequential-seeds.md); "
            "the same as the sweep file's `until_decided:` key",
            referenced=False,  # a teacher's cell is planned at the student's seeds, further ones included
        ),
        StageFlag(
            "--max-seeds",
            "with --until-decided: at most N seeds per cell (default: the file's `until_decided.max_seeds`, else 10)",
            int,
            "N",
            referenced=False,
            check=_check_max_seeds,
        ),
    )

    def selection(self, spec: SweepSpec, scale: Scale | None) -> Selection:
        """Its further seeds come after the seeds the sweep ran (`--seeds 0 1`: 2, 3, ...), not the file's."""
        return Selection(seeds_run=design_of(spec, scale) is not None)

    def plan_cell(self, cell: Cell) -> CellRuns | None:
        """A cell some decidable claim line compares: its further seeds' runs (and what they depend on: folds,
        tuning, teachers, as the cell's stages plan a seed), after its own, each round's phase and chance."""
        spec = cell.spec
        design = design_of(spec, cell.scale)
        if design is None:
            return None
        extras = further_seeds(spec, design)
        lines = [line for line in claim_lines(spec) if (cell.row, cell.column) in {(r, c) for _, r, c in line.cells}]
        if not extras or not lines:
            return None
        order = (*spec.seeds, *extras)
        key = (cell.row, cell.column)

        def then(runs: list[PlannedRun]) -> list[PlannedRun]:
            reported = next((r for r in runs if r.stage in REPORTED and (r.row, r.column) == key), None)
            floor = floor_of(spec, reported.config if reported else None)
            # a cell is planned on its own: its lines are priced guarded where its own method declares collapse
            looks = design.at(len(spec.seeds), reported is not None and declares_collapse(reported) is not None)
            chances = [line_chances(line, looks, floor) for line in lines if line.decidable(floor, design)[0]]
            if not chances:
                return runs
            more = []
            for seed in extras:
                round_ = round_of(order, looks, seed) or 2
                share = cell_chance(chances, round_)
                more += [replace(r, phase=phase_of(round_), share=r.share * share) for r in cell.seed_runs(seed)]
            return runs + more

        return CellRuns(then=then)

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """Each line walked through the looks on the runs done; the rounds no undecided line needs held; with
        `asked.record`, each line's state kept in the sweep folder (sequential.json) for the ledger. Its report: the
        rounds of further seeds and their runs' states (`repro sweep status`); in a dry run, the further rounds'
        prices."""
        design = kept_design(plan.spec, plan.scale, sweep_dir(plan.output_root, plan.spec.name))
        if design is None:
            return Decision()
        walk = walk_lines(plan, design)
        hold_undecided(plan, walk)
        if asked.record:
            folder, fields = sweep_dir(plan.output_root, plan.spec.name), design.fields(walk.first)
            write_record(folder, walk.text(), [s.record for s in walk.lines], fields)
        rounds = rounds_text(plan, walk_lines(plan, design))  # the lines as they stand with their rounds held
        priced = DryRun()
        if asked.dry_run:  # the expected and worst-case added GPU-hours of the further rounds, and the design
            priced = DryRun(prices=(price_text(plan, walk_lines(plan, design), asked.gpu_model),))
        return Decision((lines_text(walk),), report=(rounds,) if rounds else (), dry_run=priced)
