"""Out-of-sample predicted probabilities for every training sample of a run, from K cross-validation fold runs.

Why: cleanlab's `find_label_issues` ranks a given label by the model's predicted probability of it, and its
documentation requires those probabilities to be out-of-sample ("the data points were held out from the model during
training, which can be obtained via cross-validation"; docs.cleanlab.ai, v2.0 quickstart; CleanLearning uses 5
folds). A network's softmax on its own training images is not: a network that has memorised the noisy labels gives
every given label a probability near 1, and cleanlab then flags nothing (AUROC 0.5 in docs/cifar_n.md).
`cleanlab.count.estimate_cv_predicted_probabilities` does the cross-validation, but for scikit-learn estimators; a
torch network needs its folds trained as runs of its own, which is what this module describes.

The fold runs of a run are its own config (same data, noise, model, recipe, method and seed) with the split replaced
by a K-fold partition: split.meta_fraction=1/K, split.folds=K, split.fold=k, split.full_train=false
(`repro.labels.fold_runs.cross_validation_configs`; the sweep plans them for a row with `out_of_sample: {folds: K}`,
stage "fold", repro/sweep/expand/). Fold run k trains on the other K-1 folds (noise injected there, as in any run)
and, at its last epoch, writes its final network's softmax over its held-out fold k (`heldout_probs.npz`: rows, probs;
`HeldOutProbs`). The folds partition the training set (repro/data/splits.py: they never overlap and, with
meta_fraction * folds = 1, cover every sample once), so every training sample of the run gets its probabilities from
exactly one network that never trained on it (`out_of_sample_probs`). With annotator noise (CIFAR-N, simulated
annotators) and uniform noise a sample's given label does not depend on the split, so the fold networks learn from
the same given labels as the run; only runs with label noise and such a partition write the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from repro.data.noise import describes_noise
from repro.errors import UserError
from repro.labels.fold_runs import cross_validation_configs
from repro.runs.io import atomic_output
from repro.runs.records import read_config
from repro.runs.rundir import RunDir
from repro.training.evaluation import softmax_outputs
from repro.training.protocols import Recorder, When

FILE = "heldout_probs.npz"


def is_partition_fold(split: Mapping[str, Any]) -> bool:
    """Whether a run's held-out part is one fold of a partition of the training set into >= 2 folds."""
    folds = int(split.get("folds", 1))
    return folds >= 2 and not split.get("full_train") and abs(float(split["meta_fraction"]) * folds - 1.0) < 1e-9


class HeldOutProbs(Recorder):
    """At the last epoch: the final network's softmax over the held-out fold, `heldout_probs.npz` (atomic)."""

    records = f"{FILE} (the final network's softmax over the held-out fold); heldout_probs_rows in the summary"
    when = When.LAST_EPOCH

    @classmethod
    def for_run(cls, exp: Any) -> list[Recorder]:
        """On a noisy run whose held-out part is one fold of a partition (a cross-validation fold run)."""
        if not cls.applies(exp.cfg) or not exp.data.meta_idx.numel():
            return []
        return [cls(exp)]

    @classmethod
    def applies(cls, config: Mapping[str, Any]) -> bool:
        return is_partition_fold(config["split"]) and describes_noise(config["noise"])

    @classmethod
    def eval_images(cls, config: Mapping[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
        """The held-out fold's images, once."""
        return n_meta if cls.applies(config) else 0

    def __init__(self, exp: Any) -> None:
        self.rows = exp.data.meta_idx.cpu()
        self.path = Path(exp.run_dir.path) / FILE

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if epoch + 1 != exp.optim.epochs:
            return

        images = exp.data.train.images[self.rows.to(exp.data.train.images.device)]
        probs = softmax_outputs(exp.method.eval_model(exp), images, **exp.eval_loader_kwargs).cpu()
        with atomic_output(self.path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, rows=self.rows.numpy().astype(np.int64), probs=probs.numpy().astype(np.float32))

    def summary(self) -> dict[str, Any]:
        return {"heldout_probs_rows": int(self.rows.numel())}


def out_of_sample_probs(run_path: str | Path, index: np.ndarray, folds: int) -> tuple[np.ndarray, np.ndarray]:
    """(probs (N, C) float32, fold of each row (N,)) for the training samples `index` (global indices) of the run in
    `run_path`, read from its `folds` fold runs in the same runs folder; a UserError names the missing ones."""
    rd = RunDir(Path(run_path))
    configs = cross_validation_configs(read_config(rd, role="run"), folds)
    fold_dirs = [RunDir(rd.path.parent / RunDir.for_config(c).run_id) for c in configs]
    missing = [f"fold {k}: {d.path}" for k, d in enumerate(fold_dirs) if not (d.path / FILE).exists()]
    if missing:
        raise UserError(
            f"Out-of-sample probabilities of run {rd.run_id} need its {folds} cross-validation fold runs, but "
            f"{len(missing)} have none ({'; '.join(missing)}). Plan them with `out_of_sample: {{folds: {folds}}}` on "
            "the sweep row and run the sweep again (done runs are skipped)."
        )
    index = np.asarray(index, dtype=np.int64)
    where = {int(s): i for i, s in enumerate(index)}
    probs: np.ndarray | None = None
    fold_of = np.full(len(index), -1, dtype=np.int64)
    for k, d in enumerate(fold_dirs):
        with np.load(d.path / FILE) as f:
            rows, held = f["rows"], f["probs"]
        if probs is None:
            probs = np.zeros((len(index), held.shape[1]), dtype=np.float32)
        for row, p in zip(rows.tolist(), held):
            i = where.get(int(row))
            if i is not None:
                if fold_of[i] >= 0:
                    raise UserError(f"Sample {row} is held out by folds {fold_of[i]} and {k} of run {rd.run_id}.")
                probs[i], fold_of[i] = p, k
    if probs is None or (fold_of < 0).any():
        raise UserError(
            f"The {folds} fold runs of run {rd.run_id} hold out {int((fold_of >= 0).sum())} of its {len(index)} "
            "training samples, not all: they are not a partition of its data (another data.subset or split.seed?)."
        )
    return probs, fold_of


def fold_count(run_path: str | Path, candidates: range = range(2, 21)) -> int | None:
    """The K of the complete set of cross-validation fold runs the run has (the smallest), or None."""
    rd = RunDir(Path(run_path))
    config = read_config(rd, role="run")
    for folds in candidates:
        configs = cross_validation_configs(config, folds)
        if all((rd.path.parent / RunDir.for_config(c).run_id / FILE).exists() for c in configs):
            return folds
    return None
