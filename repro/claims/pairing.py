"""Which random draws a line's cells share seed by seed, read from their runs' configs: what the interval's design
rests on (repro/claims/judgement.py, `Line.design`).

A run's seeds make these draws, each decided by a seed key and the config nodes it draws over (the code that makes
them is named with each):

- its initialisation: `torch.manual_seed(seed)` before the network is built (repro/training/experiment.py,
  prepare_parts), so two runs with the same `seed`, network (`model`) and data set (`data.name`: the input's shape,
  the classes) start from the same weights;
- its batch order and augmentation: the training and meta loaders' generators, seeded from `seed` and `seed + 1`
  (repro/training/batches.py), over the training part (`data`, `split`);
- the meta split and its folds: `split.seed` (repro/data/splits.py, repro/training/run_data.py);
- the noise pattern: `noise.seed`, over the training part (repro/data/noise/, repro/training/run_data.py);
- MNIST-1D's data set: `data.generator.seed` (repro/data/mnist1d.py).

A draw is shared seed by seed when, at every seed the cells share, each cell's run agrees with another cell's run
on its seed key and on the nodes it draws over, and that key differs between seeds. Another cell, not every cell: a
difference of two gains on two data sets (Table 1's "Instance gain: CIFAR100 > CIFAR10") pairs each gain's two
runs, which share their initialisation, and the per-seed contrast cancels what each pair shares. A key every run
has alike (the sweeps' default fixed `split.seed`) is one draw for all runs: it moves no contrast, so pairing
removes nothing of it and it is not counted. The configs are each run's recorded config (config.yaml, as the run
frame holds it, flattened to dotted keys); nothing here looks at a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from repro.claims.stats import PAIRED, WELCH, Design


@dataclass(frozen=True)
class SeedDraw:
    """A random draw a run makes: what it is, the config key that seeds it, the config nodes (dotted prefixes) that
    must match for one seed value to make the same draw in two runs."""

    name: str
    seed_key: str
    over: tuple[str, ...]

    def keys(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        """The draw's keys in one flattened config: its seed key and every key under the nodes it draws over."""
        under = sorted(k for k in config if any(k == node or k.startswith(node + ".") for node in self.over))
        return (self.seed_key, *under)

    def shared(self, cells: Sequence[Mapping[Any, Mapping[str, Any]]], seeds: Sequence[Any]) -> bool:
        """Whether, at each seed in `seeds`, every cell's run makes this draw alike with another cell's run, and the
        draw moves with the seed."""
        first = cells[0]
        if _value(first[seeds[0]], self.seed_key) is None:
            return False
        if len({_value(first[s], self.seed_key) for s in seeds}) < 2:
            return False  # one draw for every seed: no seed's contrast moves with it
        for seed in seeds:
            draws = [self.draw(cell[seed]) for cell in cells]
            if any(all(other != draw for j, other in enumerate(draws) if j != i) for i, draw in enumerate(draws)):
                return False
        return True

    def draw(self, config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """What identifies this draw in one run: its keys' values (a key the run does not have left out)."""
        values = ((key, _value(config, key)) for key in self.keys(config))
        return tuple((key, value) for key, value in values if value is not None)


SEED_DRAWS = (
    SeedDraw("initialisation", "seed", ("model", "data.name")),
    SeedDraw("batches (order and augmentation)", "seed", ("data", "split")),
    SeedDraw("meta split and folds", "split.seed", ("split", "data")),
    SeedDraw("noise pattern", "noise.seed", ("noise", "data", "split")),
    SeedDraw("MNIST-1D data set", "data.generator.seed", ("data.generator",)),
)


def shared_draws(cells: Sequence[Mapping[Any, Mapping[str, Any]]]) -> tuple[str, ...]:
    """The draws (SEED_DRAWS' names) a line's cells share seed by seed. `cells`: per cell, {seed: its run's flattened
    config}; over the seeds every cell has (none shared with fewer than two: nothing to pair)."""
    if len(cells) < 2:
        return ()
    seeds = [s for s in cells[0] if all(s in cell for cell in cells[1:])]
    if len(seeds) < 2:
        return ()
    return tuple(draw.name for draw in SEED_DRAWS if draw.shared(cells, seeds))


def choose_design(cells: int, same_seeds: bool, draws: Sequence[str]) -> Design:
    """The ledger's design for a line (judgement.py's rule, decided before any result is read): paired where its
    cells, two or more, have the same seeds and their runs of one seed share a draw (`draws`, `shared_draws`'s),
    else Welch's. `repro plan` and the dry run ask it of the runs they plan, so that they power the ledger's test."""
    return PAIRED if cells > 1 and same_seeds and draws else WELCH


def _value(config: Mapping[str, Any], key: str) -> Any:
    """A config value, with a run frame's empty cell (NaN: a key this run does not have) read as absent."""
    value = config.get(key)
    return None if isinstance(value, float) and math.isnan(value) else value


__all__ = ["SEED_DRAWS", "SeedDraw", "choose_design", "shared_draws"]
