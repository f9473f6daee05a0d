"""Finished runs of the paper's sweep files, fabricated in the run directory's own layout (config.yaml, status.json,
summary.json; for class-label fold runs also labels/ and metrics.jsonl), so `repro ledger` and `repro tables` read
them as they read trained runs. No training.

    planned = fabricate_paper_runs(tmp_path, value=my_value)   # every reported run of sweeps/table1-8.yaml
    with expansions_reused(tmp_path):                            # the results index takes the same expansion
        main(["ledger", "--runs", str(tmp_path), ...])

Each reported run (stage single / final) of each table's sweep file, expanded into `root` as `repro sweep` would,
is written done with `final_test_acc` from `value(planned, table) -> percent` (default: the paper's number for the cell,
the paper's stand-in row for a row it does not print, plus a per-seed offset every row of a column shares). The
noisy tables' learned-label runs carry the noise-correction summary fields; the class-label fold runs a label
trajectory and per-class validation accuracy (what the recorded claims read)."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pytest

import repro.sweep.index as results_index
from analysis.sweeps import planned_runs
from repo_paths import REPO
from repro.claims.paper import paper_cells
from repro.labels.kinds import ClassKind, InstanceKind
from repro.labels.registry import label_kind
from repro.labels.trajectory import write_class_trajectory, write_manifest
from repro.runs.rundir import RunDir
from repro.sweep.sweep_file import load_sweep

SWEEPS = REPO / "sweeps"
REPORTED = ("single", "final")
# rows of ours the paper does not print, and the printed row their number is fabricated from
STAND_INS = {
    "Ours (setting A)": "Ours (Instance labels)",
    "Ours (setting B)": "Ours (Instance labels)",
    "One-hot (Ours' recipe)": "Baseline",
    "Online Label Smoothing": "Label Smoothing",
}
SEED_OFFSET = {0: -0.2, 1: 0.0, 2: 0.2}  # points, the same for every row of a column: paired differences are equal
EPOCHS = 6
# (sweep file, output root) -> (the sweep as loaded, its planned runs), once per process
_EXPANDED: dict[tuple[str, str], tuple[Any, list[Any]]] = {}


def paper_value(planned: Any, table: int) -> float:
    """The paper's number for the planned run's cell (its stand-in row's, or Table 1's for Table 8's baseline)."""
    row = STAND_INS.get(planned.row, planned.row)
    for source in (table, 1):
        cell = paper_cells(source).get((row, planned.column))
        if cell is not None:
            return cell.mean + SEED_OFFSET.get(planned.seed, 0.0)
    return 50.0 + SEED_OFFSET.get(planned.seed, 0.0)


def expanded(path: Path, root: Path) -> list[Any]:
    """The sweep file's planned runs into `root`, expanded once per process: `path` as a command names it (`repro
    ledger`'s default --sweeps-dir is the relative `sweeps`) or absolute, the same file is one key."""
    key = (str(Path(path).resolve()), str(Path(root).resolve()))
    if key not in _EXPANDED:
        spec = load_sweep(path)
        _EXPANDED[key] = (spec, planned_runs(spec, output_root=root))
    return _EXPANDED[key][1]


@contextmanager
def expansions_reused(root: Path) -> Iterator[None]:
    """While inside, the results index (`repro ledger`, `repro tables`, `repro figures`) takes a sweep file's
    planned runs into `root` from `expanded`'s cache when it asks for the very sweep `expanded` loaded (the same
    file, rows, columns and seeds), unscaled: the expansion costs seconds per file, and the runs were fabricated from
    it. Any other expansion it makes itself."""
    original = results_index.expanded

    def reused(spec: Any, *, output_root: Any, scale: Any = None, extra_overrides: Sequence[str] = ()) -> list[Any]:
        key = (str(Path(getattr(spec, "path", "")).resolve()), str(Path(output_root).resolve()))
        cached = _EXPANDED.get(key) if Path(output_root).resolve() == Path(root).resolve() else None
        if cached is not None and scale is None and not extra_overrides and same_sweep(cached[0], spec):
            return cached[1]
        return original(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(results_index, "expanded", reused)
        yield


def same_sweep(loaded: Any, spec: Any) -> bool:
    """`spec` is the sweep `loaded` is (rows, columns, seeds, settings), named by a relative path or an absolute."""
    return isinstance(spec, type(loaded)) and dataclasses.replace(loaded, path=spec.path) == spec


def fabricate_paper_runs(
    root: Path,
    tables: Iterable[int] = range(1, 9),
    value: Callable[[Any, int], float | None] = paper_value,
    sweeps: Path = SWEEPS,
) -> dict[int, list[Any]]:
    """Write the runs; returns each table's planned runs. `value` None: the run is left out (never started)."""
    planned = {}
    written: set[str] = set()
    for number in tables:
        runs = expanded(sweeps / f"table{number}.yaml", root)
        planned[number] = runs
        for run in runs:
            if run.run_id in written:
                continue
            if run.stage in REPORTED:
                accuracy = value(run, number)
                if accuracy is not None:
                    write_run(root, run, accuracy)
                    written.add(run.run_id)
            elif run.stage == "fold" and kind_of(run) is ClassKind:
                write_class_fold(root, run)
                written.add(run.run_id)
    return planned


def kind_of(run: Any) -> type | None:
    """The label kind the run's method learns or uses (None: a method without a label parametrisation)."""
    name = run.config["method"].get("labels")
    return label_kind(str(name)) if name else None


def write_run(root: Path, run: Any, accuracy: float, **summary: Any) -> RunDir:
    rd = RunDir(root / "runs" / run.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_config(run.config)
    rd.write_status("done", epoch=EPOCHS)
    fields = {"final_test_acc": accuracy / 100.0, "epochs": EPOCHS, **noise_fields(run), **summary}
    rd.write_summary(fields)
    return rd


def noise_fields(run: Any) -> dict[str, float]:
    """A noisy learned-label run's noise-correction summary: the paper's 40% -> 33% at top-1, 90% at top-5."""
    noise = run.config.get("noise") or {}
    if kind_of(run) is not InstanceKind or not noise.get("fraction"):
        return {}
    shift = SEED_OFFSET.get(run.seed, 0.0) / 100.0
    return {
        "final_label_noise_top1": float(noise["fraction"]) - 0.07 + shift,
        "final_label_acc_top5": 0.90 + shift,
        "final_clean_label_entropy": 0.5 + shift,
        "final_uncorrected_label_entropy": 0.3,
    }


def write_class_fold(root: Path, run: Any) -> RunDir:
    """A class-label fold run: smoothing high early then falling, more on the classes the network gets wrong."""
    classes = int(run.config["data"].get("num_classes") or 10)
    rd = RunDir(root / "runs" / run.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_config(run.config)
    accuracy = np.linspace(0.3, 0.9, classes) + 0.01 * (run.seed or 0)
    early = np.array([0.1, 0.3, 0.3, 0.2, 0.1, 0.05])[:EPOCHS]
    target = np.stack([0.95 - s * (1.0 - accuracy) for s in early])
    write_manifest(rd.labels_dir, kind="class", num_samples=100, num_classes=classes, topk=None)
    write_class_trajectory(rd.labels_dir, target)
    rd.write_metrics([{"epoch": e + 1, "test_acc": 0.5, "val_per_class_acc": accuracy.tolist()} for e in range(EPOCHS)])
    rd.write_status("done", epoch=EPOCHS)
    rd.write_summary({"final_test_acc": 0.5, "epochs": EPOCHS})
    return rd
