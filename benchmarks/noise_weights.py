"""What the label-noise methods' learned weights do to noisy vs clean training samples, read from finished runs'
records (metrics.jsonl): MentorNet's weights as they enter the loss and its mentor's own output before burn-in and
example dropout, L2RW's and Meta-Weight-Net's sample weights, data parameters' instance temperatures
(docs/label-noise.md, "MentorNet"). One line per data set, noise and method setting: the mean over seeds (± the
sample std) of the last epoch's mean on noisy and on clean samples, and of the mean over every epoch.

    .venv/bin/python -m benchmarks.noise_weights --runs /tmp/mn/m
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from analysis.collect import collect_runs
from repro.runs.rundir import RunDir

# (method.name, what its records call the quantity, the metrics key's stem: <stem>_noisy, <stem>_clean)
SERIES = (
    ("mentornet", "weight in the loss", "weight_mean"),
    ("mentornet", "mentor's output", "mentor_weight_mean"),
    ("l2rw", "weight in the loss", "weight_mean"),
    ("mwnet", "weight in the loss", "weight_mean"),
    ("data_parameters", "instance temperature", "temperature_mean"),
)
SETTING = ["data.name", "noise.kind", "noise.fraction", "method.name", "method.curriculum"]


def spread(values: list[float]) -> str:
    arr = np.asarray(values, float)
    if arr.size == 0:
        return "-"
    return f"{arr.mean():.3f} ± {arr.std(ddof=1):.3f}" if arr.size > 1 else f"{arr.mean():.3f}"


def weight_lines(runs_root: Path) -> list[dict[str, object]]:
    frame = collect_runs(runs_root)
    if frame.empty:
        raise SystemExit(f"No runs under {runs_root / 'runs'}: pass the --output-root the sweeps trained into.")
    done = frame[(frame["state"] == "done") & frame["method.name"].isin({m for m, _, _ in SERIES})].copy()
    for column in SETTING:
        done[column] = done[column].fillna("-") if column in done else "-"
    lines = []
    for setting, group in done.groupby(SETTING, sort=True):
        rows_per_run = [RunDir(Path(p)).read_metrics() for p in group["path"]]
        for method, what, stem in SERIES:
            if method != setting[3] or not rows_per_run or f"{stem}_noisy" not in rows_per_run[0][-1]:
                continue
            line = dict(zip(SETTING, setting)) | {"quantity": what, "seeds": len(rows_per_run)}
            for side in ("noisy", "clean"):
                key = f"{stem}_{side}"
                line[f"last epoch, {side}"] = spread([rows[-1][key] for rows in rows_per_run])
                line[f"all epochs, {side}"] = spread([np.nanmean([r[key] for r in rows]) for rows in rows_per_run])
            lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="the output root the sweeps trained into")
    args = parser.parse_args()
    print(tabulate(pd.DataFrame(weight_lines(args.runs)), headers="keys", tablefmt="github", showindex=False))


if __name__ == "__main__":
    main()
