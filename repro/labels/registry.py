"""A label parametrisation's kind: one class that carries every fact the rest of the code asks about it, and the
registry `method.labels` names them in.

Why this module: the kind used to be a string compared across the code base ("class", "instance", ...), so a new
parametrisation touched a dozen files. Now the recording, the trajectory files, the fold averaging, the replay source
and the converged labels a student reads all ask the kind object (`label_kind(name)`).

The built-in kinds are in repro/labels/kinds.py, listed by name in `LABEL_KINDS` and imported when first asked for,
as the methods' declarations are (repro/methods/registry.py): every module of the package looks kinds up here, so this
module imports no kind (no import cycle, tests/project/test_layers.py) and no torch (the ledger reads class
trajectories through repro/labels/trajectory.py, which names kinds, without loading a training library). A kind
defined elsewhere subclasses `LabelKind` and calls `register_label_kind` (tests/labels/test_label_kinds.py registers
one from a test file and runs the 5-fold protocol with it)."""

from __future__ import annotations

import enum
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

import numpy as np

from repro.errors import UserError

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from repro.labels.base import LabelParametrisation
    from repro.runs.rundir import RunDir


class Panel(enum.Enum):
    """What a kind's recorded label trajectory can be drawn as. The W&B end-of-run charts
    (repro/tracking/wandb_charts.py) and the paper's figures (analysis/figures/labels.py, noise_correction.py) draw a
    panel for a run only when its kind declares it in `LabelKind.panels`: they ask the kind, never compare its name."""

    CLASS_CURVES = "class target-probability curves"  # Figure 2's left panels; W&B charts/class_target_prob
    INSTANCE_EXAMPLES = "instance label examples"  # Figure 2's right panels (runs without label noise)
    NOISE_CORRECTION = "noise correction over epochs"  # Figures 3 and 4 (runs with label noise)
    TRACKED_SAMPLES = "tracked samples' label lines"  # W&B charts/tracked_instance_labels


class LabelKind:
    """One label parametrisation kind. Class attributes are its facts; class methods what the code does with it.

    name            `method.labels` value that selects it
    options         the build options it takes (`options_from` reads them from the method's config)
    learned         it learns labels with the meta-gradient, records a trajectory under labels/ and is a valid
                    `method.learn.method` for the replay stage (its fold runs are averaged)
    trajectory      the on-disk format of its labels/ files (repro/labels/trajectory.py): "class" ([E, C] target
                    probabilities) or "instance" (top-k records and snapshots); None when it records none
    wandb_topics    the W&B key prefixes its recorders log under (repro/tracking/wandb_page.py groups them)
    panels          what its trajectory can be drawn as (`Panel`): the W&B charts and the figures ask this
    """

    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()
    learned: ClassVar[bool] = False
    trajectory: ClassVar[str | None] = None
    wandb_topics: ClassVar[tuple[str, ...]] = ()
    panels: ClassVar[frozenset[Panel]] = frozenset()

    # ------------------------------------------------------------------------------------------ building

    @classmethod
    def options_from(cls, cfg: Any, data: Any) -> dict[str, Any]:
        """The build options of a run whose resolved config is `cfg` (its method node holds them)."""
        return {}

    @classmethod
    def build(
        cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any
    ) -> LabelParametrisation:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------ recording

    @classmethod
    def recorders(cls, exp: Any, settings: Any) -> list:
        """The per-epoch recorders of a run that trains with these labels (repro/labels/recording.py)."""
        return []

    # -------------------------------------------------------------------- trajectory, averaging, convergence

    @classmethod
    def recorded_epochs(cls, run: RunDir | str | Path) -> int:
        raise UserError(f"Labels of kind {cls.name!r} record no trajectory.")

    @classmethod
    def averaged_file(cls) -> str:
        """The file name of a fold-averaged trajectory of this kind (repro/labels/fold_average.py)."""
        raise UserError(f"Labels of kind {cls.name!r} are not fold-averaged: they are not learned.")

    @classmethod
    def averaged_shape(cls, num_epochs: int, num_samples: int, num_classes: int) -> tuple[int, ...]:
        raise NotImplementedError

    @classmethod
    def write_average(
        cls, fold_dirs: Sequence[RunDir], target: Path, *, num_epochs: int, num_samples: int, num_classes: int
    ) -> None:
        """Average the fold runs' trajectories into `target / averaged_file()` (atomically)."""
        raise NotImplementedError

    @classmethod
    def averaged_labels(cls, row: np.ndarray, targets: Tensor) -> Tensor:
        """One epoch of the averaged file as (N, C) float32 labels (`targets`: the given labels)."""
        raise NotImplementedError

    @classmethod
    def converged_labels(cls, rd: RunDir, config: Mapping[str, Any], targets: Tensor) -> tuple[Tensor, int]:
        """(labels (N, C) float32, rows learned) of a finished run of this kind at its last epoch: what a student
        (method=transferred_labels) trains on. Only learned kinds (and replay) have them."""
        raise UserError(
            f"The label-source run {rd.run_id} (method.source) trained with method={config['method'].get('name')} "
            f"(labels={cls.name}: fixed labels), so it has no learned labels to transfer. Name a learned-labels run: "
            "the final (method=replay) run of a learned-labels row, whose fold-averaged labels are used, or a "
            "method=instance_labels run."
        )

    @classmethod
    def has_converged_labels(cls) -> bool:
        return cls.learned


# method.labels -> "module:Class" of a built-in kind (imported when first asked for), or the class
# `register_label_kind` was given; in the order `Unknown label kind` lists them.
LABEL_KINDS: dict[str, str | type[LabelKind]] = {
    "onehot": "repro.labels.kinds:OneHotKind",
    "smoothing": "repro.labels.kinds:SmoothingKind",
    "class": "repro.labels.kinds:ClassKind",
    "instance": "repro.labels.kinds:InstanceKind",
    "replay": "repro.labels.kinds:ReplayKind",
}


def register_label_kind(kind: type[LabelKind]) -> type[LabelKind]:
    """Make `method.labels=<kind.name>` select `kind` (usable as a class decorator). A name registered twice must
    be the same class: two kinds under one name would make a run's labels depend on import order."""
    known = LABEL_KINDS.get(kind.name)
    if known is not None and known is not kind and known != f"{kind.__module__}:{kind.__qualname__}":
        where = known if isinstance(known, str) else f"{known.__module__}:{known.__qualname__}"
        raise ValueError(f"label kind {kind.name!r} is registered already ({where})")
    LABEL_KINDS[kind.name] = kind
    return kind


def label_kind(name: str) -> type[LabelKind]:
    """The kind `method.labels=name` selects."""
    target = LABEL_KINDS.get(str(name))
    if target is None:
        raise UserError(f"Unknown label kind {name!r}; choose one of: {', '.join(LABEL_KINDS)}.")
    if not isinstance(target, str):
        return target
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def label_kinds() -> dict[str, type[LabelKind]]:
    """Every registered kind by name, each class imported."""
    return {name: label_kind(name) for name in LABEL_KINDS}


def kinds_drawing(panel: Panel) -> tuple[str, ...]:
    """The names of the registered kinds whose trajectory can be drawn as `panel`."""
    return tuple(name for name, kind in label_kinds().items() if panel in kind.panels)


def learned_kinds() -> tuple[str, ...]:
    return tuple(name for name, kind in label_kinds().items() if kind.learned)
