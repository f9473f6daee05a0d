"""The `estimated_t:` key of a sweep file: which flagged estimates of T the user accepts, so that the runs the
estimated-T hold keeps waiting (repro/sweep/stages/estimated_t/estimate_hold.py) train anyway.

    estimated_t:
      accept: [<estimator run id>, ...]   # their flagged estimates go on; the warnings stay in every run's record

A sweep file without the key holds every flagged estimate's runs. The held message prints the line to add, with the
flagged estimators' run ids: an acceptance names the estimator network the user checked, so another recipe (another
estimator, with another run id) is judged afresh."""

from __future__ import annotations

from repro.schema import option, schema

KEY = "estimated_t"  # the stage's key in a sweep file (repro/sweep/stages/estimated_t/stage.py)


@schema
class EstimatedTSpec:
    """`estimated_t:` (repro/sweep/stages/estimated_t/): what the estimated-T hold lets go although it is flagged."""

    accept: list[str] = option(
        default_factory=list,
        why="estimator run ids whose flagged estimates of T train anyway (the warnings stay recorded and shown)",
    )
