"""Out-of-sample fold runs (`out_of_sample:` on a row) as a registered stage (repro/sweep/stages/base.py): its key is
read by the sweep file (out_of_sample_spec.py) and its fold runs planned by the expansion beside each run of the
row (repro/sweep/expand/expand.py, from repro/labels/fold_runs.py). It adds no hook of its own yet."""

from __future__ import annotations

from repro.sweep.stages.base import Stage


class OutOfSampleStage(Stage):
    key = "out_of_sample"
    read_by_sweep_file = True
