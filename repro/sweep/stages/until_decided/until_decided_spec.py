"""The `until_decided:` key of a sweep file, the same as `repro sweep FILE --until-decided [--max-seeds N]`: after the
file's seeds, each claim line still undecided gets more seeds, in rounds, for exactly the cells it compares, by the
group-sequential design of repro/claims/sequential.py.

    until_decided:
      max_seeds: 10            # at most this many seeds per cell (the command line's --max-seeds wins)
      per_round: 1             # seeds added per round
      spending: obrien_fleming # or pocock: how the 5% is spent over the looks
      collapse_guard: declared # the level held also where seeds collapse, on the lines of a method that declares
                               # its seeds may collapse; true: on every line (fewer decisions); false: on none

The further seeds are the whole numbers after the largest seed the sweep runs (seeds [0, 1, 2] go on with 3, 4, ...),
so a sweep of `--seeds 0 1` and one of the file's [0, 1, 2] add the same runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from repro.claims.sequential import DEFAULT_MAX_SEEDS, DEFAULT_SPENDING, SequentialDesign
from repro.claims.sequential_record import read_design
from repro.errors import UserError
from repro.schema import option, schema
from repro.sweep.spec.model import Scale, SweepSpec

KEY = "until_decided"  # the stage's key in a sweep file (repro/sweep/stages/until_decided/stage.py)
DECLARED = "declared"  # `collapse_guard: declared`: guarded where a method declares its seeds may collapse


@schema
class UntilDecidedKey:
    """`until_decided:` (repro/sweep/stages/until_decided/): how far and how a table adds seeds to undecided claims."""

    max_seeds: int = option(default=DEFAULT_MAX_SEEDS, ge=2, why="at most this many seeds per cell")
    per_round: int = option(default=1, ge=1, why="the seeds added to an undecided line's cells per round")
    spending: Literal["pocock", "obrien_fleming"] = option(
        default=DEFAULT_SPENDING,
        why="how the level is spent over the looks (Lan-DeMets): pocock (a large effect stops at the first look) "
        "or obrien_fleming (almost nothing early, almost the fixed-sample level at the last: it decides the most at "
        "the level, docs/sequential-seeds.md)",
    )
    collapse_guard: Literal["declared"] | bool = option(
        default=DECLARED,
        why="boundaries that hold the level also where seeds sometimes collapse (a seed many sds down), at the price "
        "of most decisions where they do not (docs/sequential-seeds.md): declared, on the claim lines of a method "
        "that declares its seeds may collapse (MentorNet PD); true, on every line; false, on none",
    )


def design_of(spec: SweepSpec, scale: Scale | None) -> SequentialDesign | None:
    """The sweep's design: its file's key, or `--until-decided` (the default design), `--max-seeds` over either;
    None: the sweep adds no seeds."""
    declared = spec.stage_settings.get(KEY)
    asked = scale is not None and scale.option("until_decided", False)
    if declared is None and not asked:
        return None
    if len(spec.seeds) < 2:
        raise UserError(
            f"{spec.path}: seeds until decided look at the claims after the sweep's own seeds, and an interval needs "
            f"at least 2 per cell; this sweep runs {len(spec.seeds)} (seeds {list(spec.seeds)}). Select two or more, "
            "e.g. --seeds 0 1, or leave out --until-decided (and the file's `until_decided:`). Nothing was run."
        )
    key = declared or UntilDecidedKey()
    given = scale.option("max_seeds") if scale is not None else None
    max_seeds = given if given is not None else key.max_seeds
    guard = key.collapse_guard
    return SequentialDesign(max_seeds, key.per_round, key.spending, guard is True, guard is not False)


def kept_design(spec: SweepSpec, scale: Scale | None, folder: Path) -> SequentialDesign | None:
    """`design_of`, except that a sweep taking the default design (no `until_decided:` key) whose folder records the
    design it has walked by keeps that one: a sweep begun under an older default goes on as it began (a design is
    fixed before the data), and its recorded decisions stay what they were. The record names its design by its
    fields; one kept before that, by its sentence."""
    design = design_of(spec, scale)
    if design is None or KEY in spec.stage_settings:
        return design
    text, fields = read_design(folder)
    return design.recorded_as(fields, text, len(spec.seeds)) if text or fields else design


def further_seeds(spec: SweepSpec, design: SequentialDesign) -> list[int]:
    """The seeds after the sweep's, in the order they are added (none where it runs `max_seeds` or more)."""
    start = max(spec.seeds) + 1
    return list(range(start, start + max(0, design.max_seeds - len(spec.seeds))))
