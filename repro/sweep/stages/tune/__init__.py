"""The tuning stage (`tune:`): a grid or successive halving of tuning runs, the winner a tuned run trains with.

What it offers a measurement (benchmarks/halving_rules.py and halving_vs_grid.py replay its rules on finished runs),
each name imported from its module on first access, so importing the stage loads nothing more: a cell's tuning
(`cell_tune`), a race's rungs (`stage_rungs`, `run_epochs`), the race itself (`Ladder`, `climb`, `run_of`), and the
choice among its points (`choose`, `results`, `point_text`). The rest of the folder is the stage's own."""

from repro.lazy_names import lazy_names

_HOMES = {
    "cell_tune": "repro.sweep.stages.tune.tune_spec",
    "stage_rungs": "repro.sweep.stages.tune.halving_runs",
    "run_epochs": "repro.sweep.stages.tune.halving_runs",
    "Ladder": "repro.sweep.stages.tune.halving",
    "climb": "repro.sweep.stages.tune.halving",
    "run_of": "repro.sweep.stages.tune.halving",
    "choose": "repro.sweep.stages.tune.tuning",
    "results": "repro.sweep.stages.tune.tuning",
    "point_text": "repro.sweep.stages.tune.tuning",
}
__getattr__, __dir__ = lazy_names(globals(), _HOMES)
