"""The label parametrisation a run's method trains with, built from its config (repro.labels has the kinds)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from repro.labels import LabelParametrisation, build_labels, label_kind


def labels_for_run(cfg: DictConfig, data: Any) -> LabelParametrisation:
    """The run's label parametrisation: rows are addressed by global training index, so every fold's instance
    labels live in one (N, C) table and the samples a fold never trains on simply keep their initial labels."""
    kind = str(cfg.method.labels)
    options = label_kind(kind).options_from(cfg, data)
    return build_labels(
        kind, num_samples=len(data.train_targets), num_classes=data.num_classes, targets=data.train_targets, **options
    )
