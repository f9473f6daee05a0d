"""A plan priced with K runs per GPU (`repro plan --runs-per-gpu K`): each run at its unpacked hours over the
measured speed-up of K runs side by side, as `repro sweep --runs-per-gpu K --dry-run` prices it, and every printed
command checked as that sweep checks it: K of its runs must fit the GPU's memory (repro/sweep/budget/packing.py). A
command the sweep would refuse is refused here, with the sweep's own reason, before any command is printed."""

from __future__ import annotations

from repro.errors import UserError
from repro.planning.commands import SweepCommand
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.packing import check_fits, packing_line


def check_commands_fit(commands: list[SweepCommand], cal: Calibration, runs_per_gpu: int) -> list[str]:
    """Refuse (UserError) where `runs_per_gpu` runs of a command's do not fit the GPU, as `repro sweep` would refuse
    that command (no cluster profile: the GPU's memory is the calibration's); the notes where memory could not be
    checked, or was checked from the plain step's peak."""
    notes: dict[str, None] = {}
    for command in commands if runs_per_gpu > 1 else ():
        try:
            note = check_fits(command.model_kinds(), runs_per_gpu, cal, None)
        except UserError as refused:
            raise UserError(f"The plan's command `{command.text}` would be refused: {refused}") from None
        notes.update({note: None} if note else {})
    return list(notes)


def packing_text(commands: list[SweepCommand], cal: Calibration, runs_per_gpu: int) -> list[str]:
    """How a packed plan was priced and checked, as its commands' dry runs say it: the speed-up each (model, step
    kind) was priced at (or K=1 where none was measured), then the memory check's notes; nothing at K=1."""
    if runs_per_gpu == 1:
        return []
    kinds = {pair for command in commands for pair in command.model_kinds()}
    return [
        f"{packing_line(cal, kinds, runs_per_gpu)}, as the commands' --runs-per-gpu {runs_per_gpu} dry runs price it",
        *check_commands_fit(commands, cal, runs_per_gpu),
    ]
