"""Where a learned-label run's per-epoch label records live on disk, and writing and reading them raw.

The layout (repro/labels/trajectory.py's docstring): `topk.npy` and `snapshots.npy` grow one record per epoch
(repro/runs/npy_log.py), so a run leaves the same files at 3 epochs as at 300; run directories written before them
hold a file per epoch (`topk/epoch_0001.npz`, `snapshots/epoch_0001.npy`) and are read, and resumed, in their own
layout. trajectory.py checks what is read against the run's manifest and turns records into labels.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from repro.errors import UserError
from repro.runs.io import atomic_save_npy, atomic_write_bytes
from repro.runs.npy_log import NpyLog, read_log
from repro.runs.records import DamagedRecord
from repro.runs.rundir import RunDir

READ_ERRORS = (ValueError, EOFError, OSError, KeyError, zipfile.BadZipFile)  # a truncated or corrupt .npy / .npz


def labels_dir_of(run: RunDir | str | Path) -> Path:
    path = run.path if isinstance(run, RunDir) else Path(run)
    return path / "labels"


def _epoch_name(epoch: int) -> str:
    return f"epoch_{int(epoch):04d}"


def topk_file(labels_dir: Path, epoch: int) -> Path:
    """The per-epoch top-k file of the earlier layout (module docstring)."""
    return labels_dir / "topk" / f"{_epoch_name(epoch)}.npz"


def snapshot_file(labels_dir: Path, epoch: int) -> Path:
    """The per-epoch snapshot file of the earlier layout (module docstring)."""
    return labels_dir / "snapshots" / f"{_epoch_name(epoch)}.npy"


def per_epoch_files(labels_dir: Path) -> bool:
    """Whether the run records in the earlier layout, a file per epoch."""
    return (Path(labels_dir) / "topk").is_dir()


def topk_log(labels_dir: Path, num_samples: int, k: int) -> NpyLog:
    dtype = np.dtype([("classes", "<i2", (k,)), ("probs", "<f2", (k,))])
    return NpyLog(Path(labels_dir) / "topk.npy", dtype, (num_samples,))


def snapshot_log(labels_dir: Path, num_samples: int, num_classes: int) -> NpyLog:
    dtype = np.dtype([("epoch", "<i4"), ("labels", "<f2", (num_samples, num_classes))])
    return NpyLog(Path(labels_dir) / "snapshots.npy", dtype)


def write_instance_topk(labels_dir: Path, epoch: int, classes: np.ndarray, probs: np.ndarray) -> None:
    """Epoch `epoch`'s (1-based) top-k record, int16 classes + float16 probabilities, as record epoch-1 of topk.npy
    (records past it, of epochs a resumed run trains again, are dropped first)."""
    if int(np.max(classes, initial=0)) > np.iinfo(np.int16).max:
        raise UserError("Top-k label records store classes as int16, so at most 32767 classes are supported.")
    classes, probs = np.asarray(classes, dtype=np.int16), np.asarray(probs, dtype=np.float16)
    if per_epoch_files(labels_dir):
        atomic_write_bytes(topk_file(labels_dir, epoch), _npz_bytes(classes=classes, probs=probs))
        return
    log = topk_log(labels_dir, *classes.shape)
    have = log.count()
    if have < epoch - 1:
        raise UserError(
            f"{log.path} holds {have} epochs but the run records epoch {epoch}; the trajectory has a gap. Train "
            "the run again in a fresh output_root."
        )
    if have > epoch - 1:  # a resumed run records epochs past its checkpoint again
        log.truncate(epoch - 1)
    record = np.empty(classes.shape[0], log.dtype)
    record["classes"], record["probs"] = classes, probs
    log.append(record)


def write_snapshot(labels_dir: Path, epoch: int, labels: np.ndarray) -> None:
    """Every sample's labels at epoch `epoch`, appended to snapshots.npy after the snapshots of earlier epochs."""
    labels = np.asarray(labels, dtype=np.float16)
    if per_epoch_files(labels_dir):
        atomic_save_npy(snapshot_file(labels_dir, epoch), labels)
        return
    log = snapshot_log(labels_dir, *labels.shape)
    if log.count():
        log.truncate(int(np.sum(read_log(log.path)["epoch"] < epoch)))
    record = np.empty((), log.dtype)
    record["epoch"], record["labels"] = epoch, labels
    log.append(record)


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def damaged(run: RunDir | str | Path, path: Path, problem: str) -> DamagedRecord:
    """A damaged label file of `run` (truncated, corrupt, of another shape): the error every damaged record of a
    run raises (repro/runs/records.py), naming the run and the file and advising `repro train --rerun`."""
    return DamagedRecord(run if isinstance(run, RunDir) else RunDir(Path(run)), path, problem)


def load_record(run: RunDir | str | Path, path: Path, what: str) -> Any:
    if not path.exists():
        raise UserError(
            f"The {what} {path} does not exist; the run recorded no such label trajectory (was it a "
            "class- or instance-label run, and did it reach that epoch?)."
        )
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                return {k: data[k] for k in data.files}
        return data
    except READ_ERRORS as exc:
        raise damaged(run, path, f"its {what} cannot be read, it is truncated or corrupt ({exc})") from None


def _log_records(run: RunDir | str | Path, path: Path, what: str) -> np.ndarray:
    if not path.exists():
        raise UserError(
            f"The {what} {path} does not exist; the run recorded no such label trajectory (was it an "
            "instance-label run, and did it reach that epoch?)."
        )
    try:
        return read_log(path)
    except READ_ERRORS as exc:
        raise damaged(run, path, f"its {what} cannot be read, it is truncated or corrupt ({exc})") from None


def topk_record(run: RunDir | str | Path, epoch: int) -> tuple[Path, dict]:
    labels_dir = labels_dir_of(run)
    what = f"top-k label record of epoch {epoch}"
    if per_epoch_files(labels_dir):
        path = topk_file(labels_dir, epoch)
        return path, load_record(run, path, what)
    path = labels_dir / "topk.npy"
    records = _log_records(run, path, "top-k label records")
    if not 1 <= epoch <= records.shape[0] or records.dtype.names != ("classes", "probs"):
        raise UserError(f"The {what} is not in {path}: the run recorded {records.shape[0]} epochs.")
    return path, {
        "classes": np.asarray(records[epoch - 1]["classes"]),
        "probs": np.asarray(records[epoch - 1]["probs"]),
    }


def topk_epochs(run: RunDir | str | Path) -> int:
    """How many consecutive epochs (from epoch 1) have a top-k record."""
    labels_dir = labels_dir_of(run)
    if per_epoch_files(labels_dir):
        count = 0
        while topk_file(labels_dir, count + 1).exists():
            count += 1
        return count
    path = labels_dir / "topk.npy"
    return int(_log_records(run, path, "top-k label records").shape[0]) if path.exists() else 0


def snapshot_record(run: RunDir | str | Path, epoch: int) -> tuple[Path, np.ndarray]:
    """(the file it is in, every sample's labels float16 [N, C]) of the snapshot of epoch `epoch`, unchecked."""
    labels_dir = labels_dir_of(run)
    if per_epoch_files(labels_dir):
        path = snapshot_file(labels_dir, epoch)
        snap = load_record(run, path, f"label snapshot of epoch {epoch}")
    else:
        path = labels_dir / "snapshots.npy"
        records = _log_records(run, path, "label snapshots")
        found = np.flatnonzero(records["epoch"] == epoch)
        if not found.size:
            raise UserError(f"{path} has no label snapshot of epoch {epoch}; it has {snapshot_epochs(run) or 'none'}.")
        snap = np.asarray(records[found[-1]]["labels"])
    return path, snap


def snapshot_epochs(run: RunDir | str | Path) -> list[int]:
    """The (1-based) epochs that have a full snapshot."""
    labels_dir = labels_dir_of(run)
    if per_epoch_files(labels_dir):
        folder = labels_dir / "snapshots"
        return sorted(int(p.stem.split("_")[1]) for p in folder.glob("epoch_*.npy")) if folder.exists() else []
    path = labels_dir / "snapshots.npy"
    return sorted(int(e) for e in _log_records(run, path, "label snapshots")["epoch"]) if path.exists() else []
