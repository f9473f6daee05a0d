"""Teachers' smoothing in distillation under label noise (Lukasik et al., ICML 2020, Sec. 5; digits:
sweeps/demo/table16.yaml, `repro demo --extra`): the student's final test accuracy against its teacher's smoothing
epsilon, one line per noise rate, with the teachers' own accuracies beside (dashed, same colour); on the right the
loss-corrected teachers (forward / backward), student and teacher. `figure_teacher_smoothing.png`.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Students: the finished distillation runs of
Table 16's cells (CELLS) whose teacher is a finished run trained on uniformly noisy labels.
A teacher's epsilon: 0 for one-hot, `method.epsilon` for label smoothing, `method.smoothing_epsilon` for label
smearing's smoothing member (negative ones). Reported students are the tuned ones (`tune.keys` set: the temperature
chosen on validation); their tuning runs are not results. The student setting (data, model, subset, epochs, split)
with the most students is drawn. Points are means over seeds. Each student point is labelled with the temperature
its runs trained at (the tuned one): the curve's reading depends on it (docs/lukasik.md: at T = 0 the student learns the
teacher's arg-max on the training images, at T > 0 its softened outputs).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.figures.smoothing_noise import METRIC, noisy_runs, reported
from repro.figures.common import Skip, plt, png_bytes

NAME = "figure_teacher_smoothing"
CELLS = {"students": Cells(16)}  # teachers' smoothing under noise (sweeps/demo/table16.yaml): every student
CORRECTED = ("forward", "backward")


def teacher_kind(teacher: Mapping[str, Any]) -> float | str | None:
    """A teacher's epsilon (a number), its loss correction ("forward" / "backward"), or None (not drawn)."""
    name = str(teacher.get("method.name"))
    if name == "baseline":
        return 0.0
    if name == "label_smoothing":
        return float(teacher.get("method.epsilon"))
    if name == "label_smearing" and teacher.get("method.smearing") == "smoothing":
        return float(teacher.get("method.smoothing_epsilon"))
    if name == "loss_correction" and teacher.get("method.transition") == "known":
        return str(teacher.get("method.correction"))
    return None


def pairs(students: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """One row per reported student of `students` whose teacher is a run of `teachers` (both: run frames):
    setting, noise.fraction, teacher kind, student and teacher accuracy, their run ids."""
    runs, teachers = noisy_runs(students), noisy_runs(teachers)
    if runs.empty or "method.teacher" not in runs:
        return pd.DataFrame()
    by_id = {rec["run_id"]: rec for rec in teachers.to_dict("records")}
    students = runs[(runs["method.name"] == "distillation") & runs["method.teacher"].isin(list(by_id))]
    students = reported(students)  # before grouping: the tuning runs' setting differs (split.full_train=false)
    rows = []
    for setting, group in students.groupby("setting", sort=True):
        for rec in group.to_dict("records"):
            teacher = by_id[rec["method.teacher"]]
            kind = teacher_kind(teacher)
            if kind is None:
                continue
            rows.append(
                {
                    "setting": setting,
                    "fraction": float(rec["noise.fraction"]),
                    "kind": kind,
                    "student": 100.0 * float(rec[METRIC]),
                    "teacher": 100.0 * float(teacher[METRIC]),
                    "temperature": _number(rec.get("method.temperature")),
                    "student_run": rec["run_id"],
                    "teacher_run": rec["method.teacher"],
                }
            )
    return pd.DataFrame(rows)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def temperature_labels(points: pd.DataFrame, by: str) -> dict[Any, str]:
    """{point key (column `by`): "temp=<t>"}: the temperature the point's students trained at ("temp=?" where the
    seeds chose different ones; no label where it is unknown). Not "T=": the right panel's T is the noise's
    transition matrix."""
    labels = {}
    for key, temps in points.groupby(by)["temperature"]:
        known = {float(t) for t in temps if not math.isnan(float(t))}
        if known:
            labels[key] = f"temp={known.pop():g}" if len(known) == 1 else "temp=?"
    return labels


def _label(axis, text: str, x: float, y: float, colour) -> None:
    axis.annotate(text, (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=6, color=colour)


def render(points: pd.DataFrame, setting: tuple) -> bytes:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.2), gridspec_kw={"width_ratios": [3, 1.2]})
    numeric = points[points["kind"].map(lambda k: not isinstance(k, str))]
    corrected = points[points["kind"].map(lambda k: isinstance(k, str))]
    colours = dict(zip(sorted(points["fraction"].unique()), plt.get_cmap("tab10").colors))
    for fraction, colour in colours.items():
        mine = numeric[numeric["fraction"] == fraction].assign(eps=lambda d: d["kind"].astype(float))
        means = mine.groupby("eps")[["student", "teacher"]].mean().sort_index()
        if len(means):
            left.plot(means.index, means["student"], "o-", color=colour, label=f"{fraction:.0%} noise: student")
            for eps, label in temperature_labels(mine, "eps").items():
                _label(left, label, eps, means.loc[eps, "student"], colour)
            left.plot(
                means.index,
                means["teacher"],
                "s--",
                color=colour,
                alpha=0.6,
                markersize=4,
                label=f"{fraction:.0%} noise: teacher",
            )
        fixed = corrected[corrected["fraction"] == fraction].groupby("kind")[["student", "teacher"]].mean()
        xs = [CORRECTED.index(k) for k in fixed.index]
        right.plot(xs, fixed["student"], "o", color=colour)
        mine = corrected[corrected["fraction"] == fraction]
        for kind, label in temperature_labels(mine, "kind").items():
            _label(right, label, CORRECTED.index(kind), fixed.loc[kind, "student"], colour)
        right.plot(xs, fixed["teacher"], "s", color=colour, alpha=0.6, markersize=4, fillstyle="none")
    left.axvline(0.0, color="gray", linewidth=0.8, linestyle=":")
    left.set_xlabel("teacher's label smoothing epsilon (negative: label smearing)")
    left.set_ylabel("final test accuracy (%)")
    left.grid(alpha=0.3)
    left.legend(fontsize=7, ncol=2)
    right.set_xticks(range(len(CORRECTED)), [f"{k}-corrected\nteacher (known T)" for k in CORRECTED], fontsize=8)
    right.set_xlim(-0.6, len(CORRECTED) - 0.4)
    right.set_title("filled: student, hollow: teacher; temp: the student's temperature", fontsize=7)
    right.grid(alpha=0.3)
    data, model, subset, _, epochs = setting[:5]
    fig.suptitle(
        f"Distillation from noisy teachers: student accuracy against the teacher's smoothing ({data}, "
        f"student {model}, {epochs} epochs"
        + (f", {subset} samples" if subset not in ("None", "nan") else "")
        + "; means over seeds)",
        fontsize=10,
    )
    fig.tight_layout()
    return png_bytes(fig)


def choose(runs: FigureRuns) -> Chosen:
    """The reported students of noisy teachers, and their teachers, of the student setting with the most students."""
    missing = runs.missing_file(CELLS["students"])
    if missing:
        raise Skip(f"{missing}, whose students it draws.")
    points = pairs(runs.done(CELLS["students"]), runs.frame)
    numeric = points[points["kind"].map(lambda k: not isinstance(k, str))] if len(points) else points
    if numeric.empty or numeric["kind"].nunique() < 2:
        raise Skip(
            "no distillation students of noisy teachers at two or more smoothing epsilons "
            "(sweeps/demo/table16.yaml makes them: `repro demo --extra`)."
        )
    counts = numeric["setting"].value_counts().sort_index(kind="stable")
    setting = counts.idxmax()
    chosen = points[points["setting"] == setting]
    runs_of = {"students": list(chosen["student_run"]), "teachers": list(dict.fromkeys(chosen["teacher_run"]))}
    return Chosen(runs_of, (chosen, setting))


def draw(chosen: Chosen, log: Log) -> bytes:
    points, setting = chosen.data
    eps = sorted(float(k) for k in points["kind"] if not isinstance(k, str))
    log(
        f"{NAME} draws {len(points)} students at teacher eps {sorted(set(eps))}, noise "
        f"{sorted(points['fraction'].unique())}, corrected teachers: "
        f"{sorted({k for k in points['kind'] if isinstance(k, str)}) or 'none'}"
    )
    if math.isnan(float(np.nanmean(points["student"]))):
        raise Skip("the students have no final test accuracy.")
    return render(points, setting)
