"""Label parametrisations: each turns a batch's given labels into soft labels p (n, C) and, when learned,
takes the meta-gradient dL_meta/dp of those rows, applies the chain rule to its own parameters and makes
a plain SGD step (the paper's Eq. 5; no momentum, no weight decay, no schedule).

Kinds: one-hot, fixed label smoothing (fixed.py), class labels (per-class alpha) and instance labels (per-sample
logits, sparse row updates) (learned.py), and replayed trajectories (fold-averaged labels of a finished run;
replay.py); the interface they share is base.py. Each kind's facts (options, recorders, trajectory format, fold
averaging, converged labels, W&B topics) live on one class registered by name (registry.py; the built-in ones in
kinds.py); build.py builds labels by kind name.

This module is the package's public face: it re-exports those names, each imported on first access (PEP 562), so
importing a torch-free module of the package (the trajectory readers in trajectory.py and epoch_records.py, which
the ledger uses) loads no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repro.lazy_names import lazy_names

if TYPE_CHECKING:
    from repro.labels.base import LabelParametrisation, NonFiniteLabelsError
    from repro.labels.build import build_labels
    from repro.labels.fixed import OneHotLabels, SmoothedLabels
    from repro.labels.learned import ClassLabels, InstanceLabels
    from repro.labels.registry import LABEL_KINDS, LabelKind, label_kind, register_label_kind
    from repro.labels.replay import ReplayLabels

# Each public name and the module that defines it.
_HOMES = {
    "LABEL_KINDS": "repro.labels.registry",
    "ClassLabels": "repro.labels.learned",
    "InstanceLabels": "repro.labels.learned",
    "LabelKind": "repro.labels.registry",
    "LabelParametrisation": "repro.labels.base",
    "NonFiniteLabelsError": "repro.labels.base",
    "OneHotLabels": "repro.labels.fixed",
    "ReplayLabels": "repro.labels.replay",
    "SmoothedLabels": "repro.labels.fixed",
    "build_labels": "repro.labels.build",
    "label_kind": "repro.labels.registry",
    "register_label_kind": "repro.labels.registry",
}

__all__ = [
    "LABEL_KINDS",
    "ClassLabels",
    "InstanceLabels",
    "LabelKind",
    "LabelParametrisation",
    "NonFiniteLabelsError",
    "OneHotLabels",
    "ReplayLabels",
    "SmoothedLabels",
    "build_labels",
    "label_kind",
    "register_label_kind",
]

__getattr__, __dir__ = lazy_names(globals(), _HOMES)
