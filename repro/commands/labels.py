"""`repro labels average [overrides]` builds (or finds) the fold-averaged label trajectory a replay run would use;
`repro labels show RUN_DIR` prints a short summary of a run's recorded label trajectory."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from repro.errors import UserError
from repro.labels.registry import label_kind
from repro.labels.trajectory import read_class_trajectory, read_manifest, recorded_epochs, snapshot_epochs
from repro.runs.rundir import RunDir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    average = sub.add_parser("average", help="fold-average the label trajectories of a replay run's fold runs")
    average.add_argument(
        "overrides",
        nargs="*",
        help="the replay run's Hydra overrides, e.g. method=replay split=full data=digits seed=0",
    )
    show = sub.add_parser("show", help="summarise a run's label trajectory (or an averaged one)")
    show.add_argument(
        "run_dir", type=Path, help="a run directory (<output_root>/runs/<run_id>) or <output_root>/trajectories/<hash>"
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "average":
        return _average(args.overrides)
    return _show(args.run_dir)


def _average(overrides: list[str]) -> int:
    from repro.config import load_config  # deferred: Hydra; `repro labels --help` loads none
    from repro.labels.fold_average import averaged_trajectory  # deferred: torch, kept from `repro labels --help`

    cfg = load_config(overrides)
    if cfg.method.labels != "replay":
        raise UserError(
            f"`repro labels average` takes the overrides of a replay run (method=replay ...); got "
            f"method={cfg.method.name}. Add method=replay."
        )
    traj = averaged_trajectory(cfg)
    print(
        f"Averaged {traj.kind}-label trajectory of {len(traj.fold_runs)} fold runs ({traj.num_epochs} epochs, "
        f"{traj.num_samples} samples x {traj.num_classes} classes): {traj.path}"
    )
    return 0


def _show(path: Path) -> int:
    from repro.labels.fold_average import AveragedTrajectory  # deferred: torch (above)

    if not path.is_dir():
        raise UserError(
            f"{path} is not a directory; give a run directory (<output_root>/runs/<run_id>) or an "
            "averaged trajectory (<output_root>/trajectories/<hash>)."
        )
    if (path / "manifest.json").exists():
        traj = AveragedTrajectory.open(path)
        print(
            f"averaged {traj.kind} labels: {traj.num_epochs} epochs, {traj.num_samples} samples x "
            f"{traj.num_classes} classes, from fold runs {', '.join(traj.fold_runs)}"
        )
        return 0
    for line in describe_run_labels(path):
        print(line)
    return 0


def describe_run_labels(run_dir: Path) -> list[str]:
    """A few lines about a run's label trajectory: what was recorded, and how the labels moved."""
    manifest = read_manifest(run_dir)
    epochs = recorded_epochs(run_dir)
    lines = [
        f"{run_dir.name}: {manifest['kind']} labels, {manifest['num_samples']} samples x "
        f"{manifest['num_classes']} classes, {epochs} epoch(s) recorded"
    ]
    if label_kind(manifest["kind"]).trajectory == "class":  # the kind's file format: [E, C] target probabilities
        traj = read_class_trajectory(run_dir)
        if len(traj):
            first, last = traj[0], traj[-1]
            lines.append(
                f"  target probability, epoch 1: mean {first.mean():.3f} (min {first.min():.3f}, max "
                f"{first.max():.3f}); epoch {len(traj)}: mean {last.mean():.3f} (min {last.min():.3f}, "
                f"max {last.max():.3f})"
            )
            order = np.argsort(last)
            lines.append(f"  most regularised classes at the end: {order[:3].tolist()}; least: {order[-3:].tolist()}")
    else:
        lines.append(
            f"  top-{manifest['topk']} per training sample every epoch; full snapshots at epochs "
            f"{snapshot_epochs(run_dir) or 'none'}"
        )
    rows = RunDir(run_dir).read_metrics()
    keys = (
        "label_entropy",
        "label_given_prob",
        "label_change_mean",
        "noisy_top1_corrected",
        "noisy_top5_corrected",
        "clean_top1_damaged",
        "label_noise_top1",
    )
    for row in rows[:1] + rows[1:][-1:]:
        values = ", ".join(f"{k}={row[k]:.3f}" for k in keys if k in row)
        if values:
            lines.append(f"  epoch {row['epoch']}: {values}")
    return lines
