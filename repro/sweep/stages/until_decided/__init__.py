"""Seeds where a claim is undecided (`until_decided:`, `repro sweep FILE --until-decided`): stage.py.

What it offers a measurement (benchmarks/sequential_seeds.py: seeds until decided against fixed seed counts on one
table's finished runs), each name imported from its module on first access, so importing the stage loads nothing
more: a table's claim lines and their values (`claim_lines`, `reported_runs`, `finished_values`, `floor_of`), the
design its rounds follow (`design_of`) and the walk of its rounds (`walk_lines`, `needed_runs`, `is_round_run`). The
rest of the folder is the stage's own."""

from repro.lazy_names import lazy_names

_HOMES = {
    "claim_lines": "repro.sweep.stages.until_decided.table_lines",
    "finished_values": "repro.sweep.stages.until_decided.table_lines",
    "floor_of": "repro.sweep.stages.until_decided.table_lines",
    "reported_runs": "repro.sweep.stages.until_decided.table_lines",
    "design_of": "repro.sweep.stages.until_decided.until_decided_spec",
    "walk_lines": "repro.sweep.stages.until_decided.rounds",
    "needed_runs": "repro.sweep.stages.until_decided.rounds",
    "is_round_run": "repro.sweep.stages.until_decided.rounds",
}
__getattr__, __dir__ = lazy_names(globals(), _HOMES)
