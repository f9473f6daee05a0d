"""Label trajectories on disk, and the 5-fold protocol built on them (Sec. 3.1, docs/method.md).

Why this module: a learned-label run writes what its labels were at every epoch (repro/recording.py decides
*when*, this module decides *how it looks on disk*); analysis reads it back; the final run of the 5-fold
protocol averages its fold runs' trajectories and replays them epoch by epoch.

A run directory's `labels/` (epochs are 1-based, as in metrics.jsonl):

    manifest.json               {"kind": "class"|"instance", "num_samples": N, "num_classes": C, "topk": k, ...}
    class_target_prob.npy       class labels: float32 [E, C], target-class probability 1 - alpha_c per epoch
    train_index.npy             instance labels: int64 [n], the global indices of the run's training samples
    topk/epoch_0001.npz         instance labels: classes int16 [n, k], probs float16 [n, k] (rows = train_index)
    snapshots/epoch_0001.npy    instance labels: float16 [N, C], every sample's labels (global rows)

An averaged trajectory (the replay stage's input) lives in `<output_root>/trajectories/<hash of fold run ids>/`:
`manifest.json` (written last: its presence means complete) plus `labels.npy` float16 [E, N, C] (instance) or
`class_target_prob.npy` float32 [E, C] (class).
"""

from __future__ import annotations

import copy
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from omegaconf import DictConfig

from repro.errors import UserError
from repro.io import atomic_output, atomic_save_npy, atomic_write_bytes, atomic_write_json, read_json
from repro.rundir import RunDir

FORMAT_VERSION = 1
KINDS = ("class", "instance")
_READ_ERRORS = (ValueError, EOFError, OSError, KeyError, zipfile.BadZipFile)


# ----------------------------------------------------------------------------------------------- file names


def _labels_dir(run: RunDir | str | Path) -> Path:
    path = run.path if isinstance(run, RunDir) else Path(run)
    return path / "labels"


def _epoch_name(epoch: int) -> str:
    return f"epoch_{int(epoch):04d}"


def topk_file(labels_dir: Path, epoch: int) -> Path:
    return labels_dir / "topk" / f"{_epoch_name(epoch)}.npz"


def snapshot_file(labels_dir: Path, epoch: int) -> Path:
    return labels_dir / "snapshots" / f"{_epoch_name(epoch)}.npy"


# --------------------------------------------------------------------------------------------------- writing


def write_manifest(labels_dir: Path, *, kind: str, num_samples: int, num_classes: int, topk: int | None) -> None:
    assert kind in KINDS, kind
    atomic_write_json(labels_dir / "manifest.json", {
        "kind": kind, "num_samples": int(num_samples), "num_classes": int(num_classes),
        "topk": None if topk is None else int(topk), "version": FORMAT_VERSION,
    })


def write_class_trajectory(labels_dir: Path, target_prob: np.ndarray) -> None:
    """The whole [E, C] trajectory so far (tiny: rewritten atomically every epoch)."""
    atomic_save_npy(labels_dir / "class_target_prob.npy", np.asarray(target_prob, dtype=np.float32))


def write_train_index(labels_dir: Path, index: np.ndarray) -> None:
    atomic_save_npy(labels_dir / "train_index.npy", np.asarray(index, dtype=np.int64))


def write_instance_topk(labels_dir: Path, epoch: int, classes: np.ndarray, probs: np.ndarray) -> None:
    """One epoch's top-k record: int16 classes + float16 probabilities, one uncompressed .npz (one atomic file)."""
    if int(np.max(classes, initial=0)) > np.iinfo(np.int16).max:
        raise UserError("Top-k label records store classes as int16, so at most 32767 classes are supported.")
    buf = _npz_bytes(classes=np.asarray(classes, dtype=np.int16), probs=np.asarray(probs, dtype=np.float16))
    atomic_write_bytes(topk_file(labels_dir, epoch), buf)


def write_snapshot(labels_dir: Path, epoch: int, labels: np.ndarray) -> None:
    atomic_save_npy(snapshot_file(labels_dir, epoch), np.asarray(labels, dtype=np.float16))


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------- reading


def _load(path: Path, what: str) -> Any:
    if not path.exists():
        raise UserError(f"The {what} {path} does not exist; the run recorded no such label trajectory (was it a "
                        "class- or instance-label run, and did it reach that epoch?).")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                return {k: data[k] for k in data.files}
        return data
    except _READ_ERRORS as exc:
        raise UserError(f"The {what} {path} cannot be read ({exc}); it is truncated or corrupt. Nothing was "
                        "changed; re-create it by training that run again in a fresh output_root.") from None


def read_manifest(run: RunDir | str | Path) -> dict:
    path = _labels_dir(run) / "manifest.json"
    if not path.exists():
        raise UserError(f"{_labels_dir(run).parent} has no label trajectory ({path} is missing): only runs with "
                        "method=class_labels or method=instance_labels record one.")
    try:
        manifest = read_json(path)
        if not isinstance(manifest, dict) or not {"kind", "num_samples", "num_classes"} <= manifest.keys():
            raise ValueError("not a manifest of this project")
    except (OSError, ValueError) as exc:
        raise UserError(f"The label-trajectory manifest {path} cannot be read ({exc}); it is truncated or corrupt. "
                        "Nothing was changed; re-create it by training that run again in a fresh output_root.") from None
    return manifest


def read_class_trajectory(run: RunDir | str | Path) -> np.ndarray:
    """Class labels' target-class probability per epoch and class, float32 [E, C] (row e-1 = epoch e)."""
    manifest = read_manifest(run)
    path = _labels_dir(run) / "class_target_prob.npy"
    traj = _load(path, "class-label trajectory")
    if traj.ndim != 2 or traj.shape[1] != manifest["num_classes"]:
        raise UserError(f"The class-label trajectory {path} has shape {traj.shape} but the run has "
                        f"{manifest['num_classes']} classes; the file belongs to another data set or is corrupt.")
    return traj


def read_train_index(run: RunDir | str | Path) -> np.ndarray:
    return _load(_labels_dir(run) / "train_index.npy", "training-index file")


def read_instance_topk(run: RunDir | str | Path, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(global index int64 [n], classes int16 [n, k], probs float16 [n, k]) of epoch `epoch` (1-based)."""
    manifest = read_manifest(run)
    index = read_train_index(run)
    path = topk_file(_labels_dir(run), epoch)
    record = _load(path, f"top-k label record of epoch {epoch}")
    classes, probs = record.get("classes"), record.get("probs")
    if (classes is None or probs is None or classes.shape != probs.shape or classes.ndim != 2
            or classes.shape[0] != index.shape[0] or (classes.size and int(classes.max()) >= manifest["num_classes"])):
        raise UserError(f"The top-k label record {path} does not match the run's {index.shape[0]} training "
                        f"samples and {manifest['num_classes']} classes; it is corrupt or from another run.")
    return index, classes, probs


def read_snapshot(run: RunDir | str | Path, epoch: int) -> np.ndarray:
    """Every sample's instance labels at epoch `epoch` (1-based), float16 [N, C] (global rows)."""
    manifest = read_manifest(run)
    path = snapshot_file(_labels_dir(run), epoch)
    snap = _load(path, f"label snapshot of epoch {epoch}")
    expected = (manifest["num_samples"], manifest["num_classes"])
    if snap.shape != expected:
        raise UserError(f"The label snapshot {path} has shape {snap.shape}, expected {expected}; it belongs to "
                        "another data set size or is corrupt.")
    return snap


def snapshot_epochs(run: RunDir | str | Path) -> list[int]:
    """The (1-based) epochs that have a full snapshot."""
    folder = _labels_dir(run) / "snapshots"
    return sorted(int(p.stem.split("_")[1]) for p in folder.glob("epoch_*.npy")) if folder.exists() else []


def recorded_epochs(run: RunDir | str | Path) -> int:
    """How many consecutive epochs (from epoch 1) the run's label trajectory holds."""
    manifest = read_manifest(run)
    if manifest["kind"] == "class":
        return int(read_class_trajectory(run).shape[0])
    count = 0
    while topk_file(_labels_dir(run), count + 1).exists():
        count += 1
    return count


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
    if snapshot_file(_labels_dir(run), epoch).exists():
        snap = read_snapshot(run, epoch)[index].astype(np.float32)
        return index, snap / snap.sum(axis=1, keepdims=True)
    _, classes, probs = read_instance_topk(run, epoch)
    return index, labels_from_topk(classes, probs, manifest["num_classes"])


# ------------------------------------------------------------------------------------------------ averaging


def average_instance_labels(parts: Sequence[tuple[np.ndarray, np.ndarray]], num_samples: int) -> np.ndarray:
    """Average each sample's labels over the folds that trained on it: `parts` holds one (global index [n_f],
    labels [n_f, C]) per fold; returns float32 [num_samples, C]. Every sample must be trained by some fold."""
    if not parts:
        raise UserError("Fold averaging needs at least one fold's labels.")
    num_classes = parts[0][1].shape[1]
    total = np.zeros((num_samples, num_classes), np.float64)
    count = np.zeros(num_samples, np.int64)
    for index, labels in parts:
        if labels.shape != (len(index), num_classes) or (len(index) and int(index.max()) >= num_samples):
            raise UserError(f"A fold's labels {labels.shape} do not fit {num_samples} samples x {num_classes} "
                            "classes; the fold runs belong to different data sets.")
        np.add.at(total, index, labels)
        np.add.at(count, index, 1)
    if (count == 0).any():
        missing = np.flatnonzero(count == 0)
        raise UserError(f"{len(missing)} training samples (e.g. index {missing[:5].tolist()}) were trained by no "
                        "fold, so they have no learned labels to average. The folds' meta sets must not cover every "
                        "sample: use split.folds >= 2 (the paper: 5 folds of 20%).")
    return (total / count[:, None]).astype(np.float32)


def average_class_trajectories(trajectories: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of the folds' [E, C] class-label trajectories (every fold trains every class)."""
    shapes = {t.shape for t in trajectories}
    if len(shapes) != 1:
        raise UserError(f"The fold runs' class-label trajectories have different shapes {sorted(shapes)}; they must "
                        "come from runs with the same data set and number of epochs.")
    return np.mean(np.stack(trajectories), axis=0, dtype=np.float64).astype(np.float32)


def class_labels_matrix(target_prob: np.ndarray | torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N, C) class labels from per-class target probabilities t_c: t_y on the target, (1 - t_y)/(C - 1) elsewhere."""
    t = torch.tensor(np.asarray(target_prob, dtype=np.float32))
    num_classes = t.shape[0]
    on = t[targets.long().cpu()].unsqueeze(1)
    labels = ((1.0 - on) / (num_classes - 1)).expand(-1, num_classes).clone()
    labels.scatter_(1, targets.long().cpu().unsqueeze(1), on)
    return labels


# ------------------------------------------------------------------------------------ the fold runs of a replay


def learn_method_config(learn: Mapping[str, Any]) -> dict:
    """The `method` node the fold runs were trained with: method group `learn.method` plus `learn.overrides`
    (Hydra overrides of method.* keys, as given to `repro train`)."""
    from repro.config import load_config, to_container

    name = learn.get("method")
    overrides = list(learn.get("overrides") or [])
    bad = [o for o in overrides if not str(o).lstrip("+~").startswith("method.")]
    if not name or bad:
        raise UserError(
            f"method.learn must name the label-learning method (method.learn.method=instance_labels or class_labels) "
            f"and may only override method.* keys; got method={name!r}, overrides={overrides}. Example: "
            "'method.learn.overrides=[\"method.label_lr=25\",\"method.init_target_prob=0.5\"]' (quoted: Hydra "
            "needs the = inside a list quoted)."
        )
    method = to_container(load_config([f"method={name}", *overrides]))["method"]
    if method.get("labels") not in KINDS:
        raise UserError(f"method.learn.method={name} does not learn labels (labels={method.get('labels')}); the "
                        "replay stage needs method.learn.method=class_labels or instance_labels.")
    return method


def fold_run_configs(config: Mapping[str, Any] | DictConfig) -> list[dict]:
    """The resolved configs of the label-learning fold runs a replay run reads: the replay run's own config with
    the learned method in place of `replay`, split.full_train=false, split.fold = 0..folds-1, and
    optim.epochs = method.learn.epochs when that is set (static replay may train longer than the folds did)."""
    if isinstance(config, DictConfig):
        from repro.config import to_container

        config = to_container(config)
    method = config["method"]
    if method.get("labels") != "replay":
        raise UserError(f"Fold runs are derived from a replay run's config, but this config has "
                        f"method={method.get('name')}; add method=replay.")
    return fold_configs_with(config, learn_method_config(method.get("learn") or {}))


def fold_configs_with(config: Mapping[str, Any], learned: Mapping[str, Any]) -> list[dict]:
    """The fold runs' configs given the learned method's composed config (the sweep planner composes it its own,
    faster way): the replay config with `learned` as method, split.full_train=false, split.fold = 0..folds-1."""
    learn = config["method"].get("learn") or {}
    folds = int(config["split"]["folds"])
    if folds < 2:
        raise UserError(f"split.folds={folds}: the replay stage averages labels over cross-validation folds, so it "
                        "needs split.folds >= 2 (the paper uses 5).")
    runs = []
    for fold in range(folds):
        cfg = copy.deepcopy(dict(config))
        cfg["method"] = copy.deepcopy(dict(learned))
        cfg["split"] = {**cfg["split"], "full_train": False, "fold": fold}
        if learn.get("epochs") is not None:
            cfg["optim"] = {**cfg["optim"], "epochs": int(learn["epochs"])}
        runs.append(cfg)
    return runs


def finished_fold_runs(config: Mapping[str, Any] | DictConfig) -> list[RunDir]:
    """The fold runs' directories, or a UserError naming every fold that is missing or not done."""
    configs = fold_run_configs(config)
    dirs = [RunDir.for_config(c) for c in configs]
    problems = []
    for fold, rd in enumerate(dirs):
        if rd.is_done():
            continue
        status = rd.read_status() if rd.path.exists() else None
        state = "missing" if status is None else f"{status['state']} at epoch {status['epoch']}"
        problems.append(f"fold {fold}: {rd.path} ({state})")
    if problems:
        learn = configs[0]["method"]["name"]
        raise UserError(
            f"The replay stage needs all {len(dirs)} label-learning fold runs finished, but {len(problems)} are not: "
            f"{'; '.join(problems)}. Train each of them with the same data/model/optim/noise/seed settings as this "
            f"run and method={learn} (plus method.learn.overrides) split=holdout split.fold=<fold> in the same "
            "output_root (e.g. `repro sweep` the table's learn stage), then run this again."
        )
    return dirs


# ------------------------------------------------------------------------------------ the averaged trajectory


@dataclass(frozen=True)
class AveragedTrajectory:
    """A fold-averaged trajectory on disk; `labels(e, targets)` gives epoch e's (0-based) (N, C) labels."""

    path: Path
    kind: str
    num_epochs: int
    num_samples: int
    num_classes: int
    fold_runs: tuple[str, ...]

    @classmethod
    def open(cls, path: Path) -> "AveragedTrajectory":
        manifest_path = path / "manifest.json"
        if not manifest_path.exists():
            raise UserError(f"{path} is not a complete averaged trajectory (no manifest.json); build it with "
                            "`repro labels average <the replay run's overrides>`.")
        m = read_json(manifest_path)
        traj = cls(path, m["kind"], int(m["num_epochs"]), int(m["num_samples"]), int(m["num_classes"]),
                   tuple(m["fold_runs"]))
        expected = ((traj.num_epochs, traj.num_samples, traj.num_classes) if traj.kind == "instance"
                    else (traj.num_epochs, traj.num_classes))
        shape = traj._array().shape
        if shape != expected:
            raise UserError(f"The averaged trajectory {traj._file} has shape {shape}, its manifest says {expected}; "
                            f"it is corrupt. Delete {path} and run again to rebuild it from the fold runs.")
        return traj

    @property
    def _file(self) -> Path:
        return self.path / ("labels.npy" if self.kind == "instance" else "class_target_prob.npy")

    def _array(self) -> np.ndarray:
        try:
            return np.load(self._file, mmap_mode="r", allow_pickle=False)
        except _READ_ERRORS as exc:
            raise UserError(f"The averaged trajectory {self._file} cannot be read ({exc}); it is truncated or "
                            f"corrupt. Delete {self.path} and run again to rebuild it from the fold runs.") from None

    def labels(self, epoch: int, targets: torch.Tensor) -> torch.Tensor:
        """Epoch `epoch`'s (0-based) labels (N, C) float32; `targets` (the given labels) expand class labels."""
        row = np.array(self._array()[epoch], dtype=np.float32)
        if self.kind == "class":
            return class_labels_matrix(row, targets)
        labels = torch.from_numpy(row)
        return labels / labels.sum(dim=1, keepdim=True)


def trajectory_cache_dir(output_root: str | Path, fold_run_ids: Sequence[str]) -> Path:
    digest = hashlib.sha256(json.dumps([FORMAT_VERSION, list(fold_run_ids)]).encode()).hexdigest()[:12]
    return Path(output_root) / "trajectories" / digest


def _fold_epochs(rd: RunDir) -> int:
    return int(rd.read_config()["optim"]["epochs"])


def build_averaged_trajectory(fold_dirs: Sequence[RunDir], target: Path) -> AveragedTrajectory:
    """Average the fold runs' recorded trajectories into `target` (atomically; manifest last)."""
    manifests = [read_manifest(rd) for rd in fold_dirs]
    keys = {(m["kind"], m["num_samples"], m["num_classes"]) for m in manifests}
    if len(keys) != 1:
        raise UserError(f"The fold runs recorded different kinds or sizes of labels ({sorted(keys)}); they must all "
                        "come from the same data set and label method.")
    kind, num_samples, num_classes = next(iter(keys))
    epochs = {_fold_epochs(rd) for rd in fold_dirs}
    if len(epochs) != 1:
        raise UserError(f"The fold runs trained for different numbers of epochs ({sorted(epochs)}); the folds must "
                        "share optim.epochs.")
    num_epochs = epochs.pop()
    for rd in fold_dirs:
        have = recorded_epochs(rd)
        if have != num_epochs:
            raise UserError(f"The fold run {rd.path} trained {num_epochs} epochs but its label trajectory holds "
                            f"{have}; it is truncated. Nothing was changed; re-train that fold in a fresh output_root.")
    if kind == "class":
        averaged = average_class_trajectories([read_class_trajectory(rd) for rd in fold_dirs])
        atomic_save_npy(target / "class_target_prob.npy", averaged)
    else:
        with atomic_output(target / "labels.npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16,
                                            shape=(num_epochs, num_samples, num_classes))
            for e in range(num_epochs):
                parts = [instance_labels_at(rd, e + 1) for rd in fold_dirs]
                out[e] = average_instance_labels(parts, num_samples)
            out.flush()
            del out
    atomic_write_json(target / "manifest.json", {
        "kind": kind, "num_epochs": num_epochs, "num_samples": num_samples, "num_classes": num_classes,
        "fold_runs": [rd.run_id for rd in fold_dirs], "fold_dirs": [str(rd.path) for rd in fold_dirs],
        "version": FORMAT_VERSION,
    })
    return AveragedTrajectory.open(target)


def averaged_trajectory(config: Mapping[str, Any] | DictConfig) -> AveragedTrajectory:
    """The fold-averaged trajectory of a replay run's fold runs: reused from the cache, or built into it."""
    fold_dirs = finished_fold_runs(config)
    output_root = config["output_root"]
    target = trajectory_cache_dir(output_root, [rd.run_id for rd in fold_dirs])
    if (target / "manifest.json").exists():
        traj = AveragedTrajectory.open(target)
        if list(traj.fold_runs) != [rd.run_id for rd in fold_dirs]:
            raise UserError(f"The cached trajectory {target} was built from other fold runs ({list(traj.fold_runs)}); "
                            "move it aside and run again.")
        return traj
    return build_averaged_trajectory(fold_dirs, target)


def replay_source(cfg: DictConfig, data: Any) -> dict:
    """ReplayLabels options (trajectory, num_epochs, static) for a method=replay run (repro.experiment)."""
    traj = averaged_trajectory(cfg)
    num_samples, num_classes = len(data.train_targets), int(data.num_classes)
    if traj.num_samples != num_samples or traj.num_classes != num_classes:
        raise UserError(f"The averaged trajectory {traj.path} holds labels for {traj.num_samples} samples x "
                        f"{traj.num_classes} classes, but this run's data has {num_samples} x {num_classes}; the fold "
                        "runs used another data set size (data.subset?).")
    static = bool(cfg.method.get("static", False))
    epochs = int(cfg.optim.epochs)
    if not static and traj.num_epochs != epochs:
        raise UserError(f"Dynamic replay feeds the fold runs' labels of epoch e at epoch e, so this run must train "
                        f"as many epochs as they did ({traj.num_epochs}), not optim.epochs={epochs}. Set "
                        f"optim.epochs={traj.num_epochs}, or method.static=true to use the last epoch's labels.")
    targets = data.train_targets
    trajectory: Callable[[int], torch.Tensor] = lambda e: traj.labels(e, targets)  # noqa: E731
    return {"trajectory": trajectory, "num_epochs": traj.num_epochs, "static": static}
