"""Which runs each figure draws, on a small sweep: the demo's sweep files (Tables 1-3, 6, 12, 13, 15, 16 on digits)
with every run they plan fabricated as done (its resolved config and summary, and what a figure checks before it
draws a run: a learned-label run's trajectory manifest, a noisy run's memorisation keys, an annotators.npz), so
that each figure has the same competitors it has in `repro demo --extra` (the tables share runs, tuning-grid runs sit
beside the tuned ones, Table 12's instance labels beside Table 6's). The runs expected are stated as sweep cells
(table, row, stage, fold, seed) and read from the sweep files' expansion; `chosen_runs` says which runs each figure
would draw, without drawing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from analysis.figures.make import chosen_runs
from paper_runs import expanded, expansions_reused
from repo_paths import REPO
from repro.labels.trajectory import write_manifest
from repro.runs.rundir import RunDir
from repro.sweep.sweep_file import load_sweep

DEMO = REPO / "sweeps" / "demo"
TABLES = (1, 2, 3, 6, 12, 13, 15, 16)
REPORTED = ("single", "final")
LEARNED = ("class_labels", "instance_labels")
MEMORISATION = ("memorised_noisy", "recovered_noisy", "clean_train_acc", "confidence", "logit_norm")

pytestmark = pytest.mark.slow  # expands eight sweep files once (~12 s on a loaded 2-core machine)


def fabricate(root: Path, planned: list) -> None:
    """Every planned run as a done run directory (once per run id)."""
    for i, p in enumerate({p.run_id: p for p in planned}.values()):
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        method, noise = p.config["method"]["name"], p.config["noise"]
        acc = 0.5 + 0.001 * i
        summary = {"final_test_acc": acc, "final_val_acc": acc, "epochs": 2}
        row = {"test_acc": acc, "val_acc": acc}
        if noise["kind"] == "uniform" and float(noise["fraction"]) > 0:
            row.update({key: 0.1 for key in MEMORISATION})  # every noisy run records memorisation
        if noise["kind"] == "annotators":
            summary["annot_tv_given"] = 0.3
            if method in LEARNED:
                summary["annot_tv_learned"] = 0.2
            np.savez(rd.path / "annotators.npz", given=np.zeros(3, dtype=int))
        if method in LEARNED:
            kind = method.split("_")[0]
            write_manifest(
                rd.labels_dir, kind=kind, num_samples=4, num_classes=10, topk=3 if kind == "instance" else None
            )
        rd.write_metrics([{"epoch": e, **row} for e in (1, 2)])
        rd.write_status("done", epoch=2)
        rd.write_summary(summary)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> tuple[Path, dict[int, list]]:
    """(output root, {table: its planned runs}); the sweep files are in <root's parent>/sweeps/, where `repro
    figures` looks by default."""
    here = tmp_path_factory.mktemp("figure_runs")
    shutil.copytree(DEMO, here / "sweeps")
    root = here / "out"
    planned = {n: expanded(here / "sweeps" / f"table{n}.yaml", root) for n in TABLES}
    fabricate(root, [p for runs in planned.values() for p in runs])
    return root, planned


@pytest.fixture(scope="module")
def chosen(demo_root) -> dict:
    """The runs each figure would draw, from the root's parent as `repro figures` runs there; the results indexes
    take the sweep files' expansion the runs were fabricated from."""
    root, _ = demo_root
    with pytest.MonkeyPatch.context() as patch, expansions_reused(root):
        patch.chdir(root.parent)
        return chosen_runs(root)


def cell(planned, table, row, *, stage=REPORTED, fold=None, seed=None, column=None) -> list[str]:
    return sorted(
        {
            p.run_id
            for p in planned[table]
            if p.row == row
            and p.stage in stage
            and (fold is None or p.fold == fold)
            and (seed is None or p.seed == seed)
            and (column is None or p.column == column)
        }
    )


def rows(planned, table, names) -> list[str]:
    return sorted({rid for name in names for rid in cell(planned, table, name)})


def test_each_figure_draws_the_runs_of_its_cells(demo_root, chosen):
    root, planned = demo_root
    ours_noisy = cell(planned, 6, "Ours (Instance labels)")
    expected = {
        "figure2": {
            "class labels": cell(planned, 1, "Ours (Class)", stage=("fold",), fold=0),
            "instance labels": cell(planned, 1, "Ours (Instance)", stage=("fold",), fold=0),
        },
        "figure3": {"runs": ours_noisy},
        "figure4": {"runs": ours_noisy},
        "figure_noise_methods": {
            "l2rw": cell(planned, 6, "L2RW"),
            "mwnet": cell(planned, 6, "MWNet"),
            "coteaching": cell(planned, 6, "Co-teaching"),
            "data_parameters": cell(planned, 6, "Data Parameters"),
            "instance_labels": ours_noisy,
            "mentornet": cell(planned, 6, "MentorNet"),  # the students, not their mentor runs
        },
    }
    for name, parts in expected.items():
        assert {part: sorted(ids) for part, ids in chosen[name].runs.items()} == parts, name
    # Sec. 3.4's targets: Table 1's dynamic instance-label replay and one-hot baseline, the first seed's
    targets = chosen["figure_targets"].runs
    assert targets["teacher and labels"] == cell(planned, 1, "Ours (Instance)", stage=("final",), seed=0)
    assert targets["baseline"] == cell(planned, 1, "Baseline", seed=0)
    # accuracy against epsilon: Table 12's fixed-epsilon rows and the one-hot baseline make the curve, its other
    # rows each a reference line (the two estimated-T rows of a correction share one)
    smoothing = {part: sorted(set(ids)) for part, ids in chosen["figure_smoothing_noise"].runs.items()}
    fixed = [r for r in load_sweep(root.parent / "sweeps" / "table12.yaml").rows if "eps=" in r or r == "One-hot"]
    assert smoothing == {
        "label smoothing curve": rows(planned, 12, fixed),
        "instance labels": cell(planned, 12, "Ours (Instance labels)"),
        "forward, known T": cell(planned, 12, "Forward (known T)"),
        "backward, known T": cell(planned, 12, "Backward (known T)"),
        "forward, estimated T": rows(planned, 12, ["Forward (estimated T)", "Forward (estimated T, best val)"]),
        "backward, estimated T": rows(planned, 12, ["Backward (estimated T)", "Backward (estimated T, best val)"]),
        "label smoothing, tuned epsilon": cell(planned, 12, "Label Smoothing (tuned)"),
    }
    # the learned labels against the annotators: per label set (column), the first seed of each method
    columns = sorted({p.column for p in planned[15]})
    learned = {c: cell(planned, 15, "Ours (Instance labels)", column=c, seed=0) for c in columns}
    one_hot = {c: cell(planned, 15, "One-hot", column=c, seed=0) for c in columns}
    assert sorted(chosen["figure_annotator_entropy"].run_ids()) == sorted(i for ids in learned.values() for i in ids)
    assert sorted(chosen["figure_annotator_roc"].run_ids()) == sorted(
        i for c in columns for i in learned[c] + one_hot[c]
    )


def test_the_noisy_distillation_figures_draw_their_own_tables_cells(demo_root, chosen):
    """Every noisy run records memorisation, Tables 13 and 16's distillation students and their tuning runs too:
    the memorisation figure still draws the comparison it is for, Table 12's rows (a tuned row's tuned runs, not its
    tuning runs, which outnumber them); the teachers' smoothing figure draws Table 16's students and their Table 12
    teachers, not also Table 13's student of a tuned label-smoothing teacher."""
    root, planned = demo_root
    table12 = load_sweep(root.parent / "sweeps" / "table12.yaml").rows
    expected = rows(planned, 12, [r for r in table12 if r != "Label Smoothing (tuned)"])
    assert sorted(chosen["figure_memorisation"].run_ids()) == expected

    students = rows(planned, 16, load_sweep(root.parent / "sweeps" / "table16.yaml").rows)
    teachers = sorted({p.config["method"]["teacher"] for p in planned[16] if p.run_id in students})
    teacher_smoothing = chosen["figure_teacher_smoothing"].runs
    assert sorted(teacher_smoothing["students"]) == students
    assert sorted(teacher_smoothing["teachers"]) == teachers
