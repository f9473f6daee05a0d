"""How a stage's runs outside the table (a preflight's, in their own output root) train with the sweep's executor:
here (repro/sweep/executors/local.py) or as one SLURM job array the command waits for
(repro/sweep/executors/slurm/submit.py). Kept apart from repro/sweep/ask_stages.py, which the results index reads:
asking the stages to decide needs no executor (nor torch, which the executors load)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from repro.sweep.cluster_profile import ClusterProfile
from repro.sweep.executors.local import run_planned_runs
from repro.sweep.executors.slurm import submit
from repro.sweep.protocol.base import TrainRuns
from repro.sweep.spec.model import PlannedRun
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs

Report = Callable[[str], None]


def train_elsewhere(jobs: int | None, profile: ClusterProfile | None, report: Report) -> TrainRuns:
    """How a stage's runs outside the table (a preflight's, in their own output root) train: written beside their
    own sweep folder, then here (up to `jobs` at once) or as one SLURM job array the command waits for."""

    def train(runs: Sequence[PlannedRun], name: str, root: Path, done: Sequence[str]) -> None:
        configs = write_planned_configs(sweep_dir(root, name), list(runs))
        if profile is None:
            run_planned_runs(list(runs), done=done, jobs=jobs, configs=configs, report=report)
        else:
            submit.submit_and_wait(
                list(runs), configs=configs, name=name, output_root=root, profile=profile, report=report
            )

    return train
