"""A finished label-learning run's converged labels: what a transferred-labels student (Sec. 3.4, Table 5) trains on.
The run is found and checked against the student's data by repro/runs/teachers.py; its label kind
(repro/labels/registry.py) says whether it has converged labels and reads them."""

from __future__ import annotations

import torch

from repro.errors import UserError
from repro.labels.registry import label_kind, label_kinds
from repro.runs.records import read_config, reading
from repro.runs.rundir import RunDir


def check_label_source(rd: RunDir) -> str:
    """The kind of labels a label-source run learned (replay | instance | class); fixed labels are refused."""
    method = read_config(rd, role="label-source run")["method"]
    kind = str(method.get("labels"))
    known = label_kinds().get(kind)
    if known is None or not known.has_converged_labels():
        raise UserError(
            f"The label-source run {rd.run_id} (method.source) trained with method={method.get('name')} (fixed "
            "labels), so it has no learned labels to transfer. Name a learned-labels run: the final (method=replay) "
            "run of a learned-labels row, whose fold-averaged labels are used, or a method=instance_labels run."
        )
    return kind


def converged_labels(rd: RunDir, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(labels (N, C) float32, rows learned) of a finished label-learning run at its last epoch: a replay run's
    fold-averaged trajectory (every sample learned), or an instance- / class-label run's own labels. Samples an
    instance-label run never trained on (its meta set) keep the one-hot of their given label."""
    role = "label-source run"
    cfg = read_config(rd, role=role)
    kind = label_kind(check_label_source(rd))
    with reading(rd, rd.config_file, role=role):
        num_classes = int(cfg["data"]["num_classes"])
    with reading(rd, rd.labels_dir, role=role):  # a replay run's fold runs: repro/labels/fold_average.py names them
        labels, learned = kind.converged_labels(rd, cfg, targets)
    if labels.shape != (len(targets), num_classes):
        raise UserError(
            f"The label-source run {rd.run_id} holds labels for {labels.shape[0]} samples x {labels.shape[1]} "
            f"classes, but this run has {len(targets)} training samples; they must train on the same data "
            "(data.subset, split.seed)."
        )
    return labels.float(), int(learned)
