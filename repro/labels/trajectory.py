"""One run's label trajectory on disk: the files under a run directory's `labels/`, written and read back.

Why this module: a learned-label run writes what its labels were at every epoch (repro/labels/recording.py decides
*when*, this module decides *how it looks on disk*); analysis, teachers and the fold averaging
(repro/labels/fold_average.py) read it back, here, as arrays or as (n, C) labels. It imports no torch: the ledger
reads class trajectories through it without loading a training library.

A run directory's `labels/` (epochs are 1-based, as in metrics.jsonl):

    manifest.json               {"kind": "class"|"instance", "num_samples": N, "num_classes": C, "topk": k, ...}
    class_target_prob.npy       class labels: float32 [E, C], target-class probability 1 - alpha_c per epoch
    train_index.npy             instance labels: int64 [n], the global indices of the run's training samples
    topk.npy                    instance labels: [E, n] records (classes int16 [k], probs float16 [k]) per epoch and
                                training sample (rows = train_index), one record appended per epoch
    snapshots.npy               instance labels: [S] records (epoch int32, labels float16 [N, C]): every sample's
                                labels (global rows) at the snapshot epochs

topk.npy and snapshots.npy grow by one record at a time (repro/runs/npy_log.py), so a run's file count does not
grow with its epochs. Run directories written before them hold one file per epoch instead
(`topk/epoch_0001.npz`: classes, probs; `snapshots/epoch_0001.npy`): they are read the same way, and a run resumed
from such a directory goes on writing that layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from repro.errors import UserError
from repro.labels.epoch_records import (  # noqa: F401  (write_*, topk_file, snapshot_epochs: this module's API too)
    READ_ERRORS,
    damaged,
    labels_dir_of,
    load_record,
    snapshot_epochs,
    snapshot_record,
    topk_epochs,
    topk_file,
    topk_record,
    write_instance_topk,
    write_snapshot,
)
from repro.labels.registry import label_kind
from repro.runs.io import atomic_save_npy, atomic_write_json, read_json
from repro.runs.rundir import RunDir

FORMAT_VERSION = 1  # also in the averaged trajectories' manifests and cache keys (repro/labels/fold_average.py)


# --------------------------------------------------------------------------------------------------- writing


def write_manifest(labels_dir: Path, *, kind: str, num_samples: int, num_classes: int, topk: int | None) -> None:
    assert label_kind(kind).trajectory is not None, kind
    atomic_write_json(
        labels_dir / "manifest.json",
        {
            "kind": kind,
            "num_samples": int(num_samples),
            "num_classes": int(num_classes),
            "topk": None if topk is None else int(topk),
            "version": FORMAT_VERSION,
        },
    )


def write_class_trajectory(labels_dir: Path, target_prob: np.ndarray) -> None:
    """The whole [E, C] trajectory so far (tiny: rewritten atomically every epoch)."""
    atomic_save_npy(labels_dir / "class_target_prob.npy", np.asarray(target_prob, dtype=np.float32))


def write_train_index(labels_dir: Path, index: np.ndarray) -> None:
    atomic_save_npy(labels_dir / "train_index.npy", np.asarray(index, dtype=np.int64))


# --------------------------------------------------------------------------------------------------- reading


def read_manifest(run: RunDir | str | Path) -> dict:
    path = labels_dir_of(run) / "manifest.json"
    if not path.exists():
        raise UserError(
            f"{labels_dir_of(run).parent} has no label trajectory ({path} is missing): only runs with "
            "method=class_labels or method=instance_labels record one."
        )
    try:
        manifest = read_json(path)
        if not isinstance(manifest, dict) or not {"kind", "num_samples", "num_classes"} <= manifest.keys():
            raise ValueError("not a manifest of this project")
    except (OSError, ValueError) as exc:
        problem = f"its label-trajectory manifest cannot be read, it is truncated or corrupt ({exc})"
        raise damaged(run, path, problem) from None
    return manifest


def read_class_trajectory(run: RunDir | str | Path) -> np.ndarray:
    """Class labels' target-class probability per epoch and class, float32 [E, C] (row e-1 = epoch e)."""
    manifest = read_manifest(run)
    path = labels_dir_of(run) / "class_target_prob.npy"
    traj = load_record(run, path, "class-label trajectory")
    if traj.ndim != 2 or traj.shape[1] != manifest["num_classes"]:
        raise damaged(
            run,
            path,
            f"its class-label trajectory has shape {traj.shape} but the run has {manifest['num_classes']} classes; "
            "the file belongs to another data set or is corrupt",
        )
    return traj


def read_train_index(run: RunDir | str | Path) -> np.ndarray:
    return load_record(run, labels_dir_of(run) / "train_index.npy", "training-index file")


def read_instance_topk(run: RunDir | str | Path, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(global index int64 [n], classes int16 [n, k], probs float16 [n, k]) of epoch `epoch` (1-based)."""
    manifest = read_manifest(run)
    index = read_train_index(run)
    path, record = topk_record(run, epoch)
    classes, probs = record.get("classes"), record.get("probs")
    if (
        classes is None
        or probs is None
        or classes.shape != probs.shape
        or classes.ndim != 2
        or classes.shape[0] != index.shape[0]
        or (classes.size and int(classes.max()) >= manifest["num_classes"])
    ):
        raise damaged(
            run,
            path,
            f"its top-k label record of epoch {epoch} does not match the run's {index.shape[0]} training samples "
            f"and {manifest['num_classes']} classes; it is corrupt or from another run",
        )
    return index, classes, probs


def read_snapshot(run: RunDir | str | Path, epoch: int) -> np.ndarray:
    """Every sample's instance labels at epoch `epoch` (1-based), float16 [N, C] (global rows)."""
    manifest = read_manifest(run)
    path, snap = snapshot_record(run, epoch)
    expected = (manifest["num_samples"], manifest["num_classes"])
    if snap.shape != expected:
        raise damaged(
            run,
            path,
            f"its label snapshot of epoch {epoch} has shape {snap.shape}, expected {expected}; it belongs to "
            "another data set size or is corrupt",
        )
    return snap


def recorded_epochs(run: RunDir | str | Path) -> int:
    """How many consecutive epochs (from epoch 1) the run's label trajectory holds."""
    return label_kind(read_manifest(run)["kind"]).recorded_epochs(run)


# -------------------------------------------------------------------------------------- labels from the records


def labels_from_topk(classes: np.ndarray, probs: np.ndarray, num_classes: int) -> np.ndarray:
    """(n, C) labels from a top-k record: the k recorded probabilities, and the remaining mass 1 - sum(top-k)
    spread evenly over the other C - k classes. Exact (up to float16) when k = C."""
    n, k = classes.shape
    probs = probs.astype(np.float32)
    rest = np.clip(1.0 - probs.sum(axis=1, keepdims=True), 0.0, None)
    fill = rest / (num_classes - k) if k < num_classes else np.zeros((n, 1), np.float32)
    labels = np.broadcast_to(fill, (n, num_classes)).copy()
    np.put_along_axis(labels, classes.astype(np.int64), probs, axis=1)
    return labels / labels.sum(axis=1, keepdims=True)


def instance_labels_at(run: RunDir | str | Path, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """(global index [n], labels float32 [n, C]) of the run's training samples at `epoch` (1-based): the full
    snapshot when one was taken that epoch (exact), else the top-k reconstruction."""
    manifest = read_manifest(run)
    index = read_train_index(run)
    if epoch in snapshot_epochs(run):
        snap = read_snapshot(run, epoch)[index].astype(np.float32)
        return index, snap / snap.sum(axis=1, keepdims=True)
    _, classes, probs = read_instance_topk(run, epoch)
    return index, labels_from_topk(classes, probs, manifest["num_classes"])
