"""Which sources of variance a table's seeds redraw, read from its planned runs' configs (never assumed), so the
ledger can say what its intervals cover.

The run's `seed` always redraws the network's initialisation, the order of the training (and meta) batches and the
augmentation (repro/training/experiment.py: torch.manual_seed(seed) and the batch generators). Three more sources
have seeds of their own, which a sweep may tie to the run's seed or leave fixed: the meta / validation split and the
folds (`split.seed`), the noise pattern (`noise.seed`, noisy tables only) and MNIST-1D's data set
(`data.generator.seed`, generated data only); and the network's width where it is a key (`model.channels`, the 1-D
CNN), a setting of the recipe, not a seed, listed because it moved verdicts more. A source is "redrawn" where its key
differs between the seeds of a cell,
and "fixed" otherwise. The defaults leave all three fixed, for the reasons in FIXED_BECAUSE (docs/tables.md, "What a
seed redraws"); an interval over such seeds says nothing of how a result moves with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from repro.data.noise import describes_noise
from repro.errors import UserError

ALWAYS = "initialisation, batch order and augmentation (the run's seed)"


def _noisy(config: dict[str, Any]) -> bool:
    noise = config.get("noise")
    try:
        return isinstance(noise, dict) and describes_noise(noise)
    except UserError:
        return False


@dataclass(frozen=True)
class Source:
    """A source of variance the run's seed does not redraw (a seed of its own, or a setting of the recipe that moves
    the verdicts): its config key, when it applies (a config without the key has none), why tables leave it fixed."""

    name: str
    path: tuple[str, ...]
    why_fixed: str
    applies: Callable[[dict[str, Any]], bool] = lambda config: True

    def value(self, config: Any) -> Any:
        node = config
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node


SOURCES = (
    Source(
        "meta split and folds",
        ("split", "seed"),
        "the paper tunes on one 20% held-out set and learns labels in 5 folds of the same split (Sec. 3.1, appendix); "
        "one split keeps the tuned values and the folds' labels those of the split the finals replay",
    ),
    Source(
        "noise pattern",
        ("noise", "seed"),
        "every row of a column trains on the same noisy labels, so a row difference is the methods', not two noise "
        "draws'",
        _noisy,
    ),
    Source(
        "MNIST-1D data set",
        ("data", "generator", "seed"),
        "one generated data set, the mnist1d package's default that other MNIST-1D results use; another draw moved "
        "Table 6's gains by 2.1-3.9 points, one of six outside the default draw's interval (docs/mnist1d.md, "
        "Another data draw)",
    ),
    # not a seed but the recipe's: a verdict holds for the network the table trains, and this one moves them most
    Source(
        "network width",
        ("model", "channels"),
        "the table's network (the 1-D CNN's 32 channels, the demo's measured one); at 64 channels Table 6's gains "
        "moved by +0.7 to +10.1 points, four of seven outside their intervals, and 'Ours > Baseline' went from +1.50 "
        "[-2.54, +5.54] to +11.57 [+4.17, +18.96] (docs/mnist1d.md, The network's width): these verdicts hold for "
        "this width",
    ),
)


@dataclass(frozen=True)
class SeedSources:
    """What a table's seeds redraw, and what they leave fixed (with the key's value and the reason)."""

    redrawn: tuple[str, ...]
    fixed: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)  # (source, key=value, why)

    def text(self) -> str:
        redrawn = ", ".join(self.redrawn)
        if not self.fixed:
            return f"a seed redraws {redrawn}."
        fixed = ", ".join(f"{source} ({value})" for source, value, _ in self.fixed)
        return f"a seed redraws {redrawn}; fixed across seeds, so not in its intervals: {fixed}."


def why_fixed(found: Sequence[SeedSources]) -> list[str]:
    """Once per source some table leaves fixed: why the tables' default leaves it so."""
    reasons = {source: why for sources in found for source, _, why in sources.fixed}
    return [f"{source}: {why}." for source, why in reasons.items()]


def seed_sources(configs_by_cell: dict[tuple[str, str], Sequence[dict[str, Any]]]) -> SeedSources:
    """From each cell's planned reported runs' configs (one per seed)."""
    redrawn, fixed = [ALWAYS], []
    for source in SOURCES:
        per_cell = [[source.value(c) for c in configs if source.applies(c)] for configs in configs_by_cell.values()]
        per_cell = [values for values in per_cell if values and all(v is not None for v in values)]
        if not per_cell:
            continue
        key = ".".join(source.path)
        if any(len({str(v) for v in values}) > 1 for values in per_cell):
            redrawn.append(f"{source.name} ({key} varies with the seed)")
        else:
            shown = sorted({str(v) for values in per_cell for v in values})
            fixed.append((source.name, f"{key}={'/'.join(shown)}", source.why_fixed))
    return SeedSources(tuple(redrawn), tuple(fixed))
