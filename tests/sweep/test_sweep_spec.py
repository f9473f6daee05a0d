"""The paper's sweep files: rows and columns as the paper prints them, their expansion into its protocol, and the
fast config path giving exactly what `repro train <the same overrides>` (Hydra) gives. What a user's file may say and
what is refused: test_sweep_file_reading.py."""

from __future__ import annotations

import pandas as pd
import pytest

from repo_paths import EVERY_SWEEP, REPO
from repro.config import load_config, to_container
from repro.runs.rundir import run_id
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.sweep_file import load_sweep

SWEEPS = REPO / "sweeps"
TABLES = range(1, 9)
# Rows of methods the paper only cites and this suite does not build: each sweep file says why (not_run). None now:
# MentorNet's rows, the last, train (docs/methods/mentornet.md).
CITED_ONLY: set[str] = set()
# Rows the suite adds to a paper table (the table renders ours only for them): Online Label Smoothing, the non-meta
# rival of learned class labels; Table 8's one-hot baseline (Table 1's runs); the like-for-like rows of Tables 6-7.
BEYOND_PAPER = {
    1: {"Online Label Smoothing"},
    2: {"Online Label Smoothing"},
    6: {"Ours (setting A)", "One-hot (Ours' recipe)"},
    7: {"Ours (setting B)", "One-hot (Ours' recipe)"},
    8: {"Baseline", "Online Label Smoothing"},
}


# ------------------------------------------------------------------------------------------- the paper's tables


@pytest.mark.parametrize("n", TABLES)
def test_table_files_name_rows_and_columns_as_the_paper_prints_them(n):
    spec = load_sweep(SWEEPS / f"table{n}.yaml")
    paper = pd.read_csv(REPO / "paper_tables" / "paper" / f"table{n}.csv", dtype=str)
    assert spec.table == n and spec.name == f"table{n}" and spec.seeds == [0, 1, 2]
    assert spec.columns == list(dict.fromkeys(paper["column"]))
    paper_rows = list(dict.fromkeys(paper["row"]))
    assert set(spec.rows) == (set(paper_rows) - CITED_ONLY) | BEYOND_PAPER.get(n, set())
    assert set(spec.not_run) == set(paper_rows) & CITED_ONLY  # every row not run says why
    for row in set(spec.rows) - BEYOND_PAPER.get(n, set()):  # each row covers the columns the paper prints for it
        assert spec.row_columns(row) == [c for c in spec.columns if c in set(paper[paper["row"] == row]["column"])]


@pytest.mark.slow
def test_table_expansion_follows_the_protocol():
    runs = expand_sweep(
        load_sweep(SWEEPS / "table1.yaml").select(rows=["Baseline", "Ours (Class)", "Ours (Instance)"]),
        output_root="out",
    )
    by_id = {r.run_id: r for r in runs}
    # the paper's rows (Online Label Smoothing, a plain row beside them, is one run per cell and seed like Baseline)
    # 4 columns x 3 seeds: baseline 1 run, each learned row 5 folds + 1 final; per column 24 tuning runs for class
    # labels (the appendix's 6 label learning rates x 4 initial target probabilities) and 32 for instance labels (8
    # label learning rates: the appendix's joined with Sec. 3.1's, sweeps/table1.yaml)
    assert len(runs) == len(by_id) == 4 * 3 * (1 + 6 + 6) + 4 * (24 + 32)
    for r in runs:
        split = r.config["split"]
        tuning = [d for d in r.depends_on if by_id[d].stage == "tune"]
        if r.stage == "single":
            assert r.config["method"]["name"] == "baseline" and split["full_train"] and not r.depends_on
        elif r.stage == "tune":
            assert not split["full_train"] and split["fold"] == 0 and r.seed == 0 and not r.depends_on
            assert r.config["tune"]["keys"] == [] and r.config["method"]["name"] in ("class_labels", "instance_labels")
        elif r.stage == "fold":
            assert not split["full_train"] and split["fold"] == r.fold and split["meta_fraction"] == 0.2
            grid = {"Ours (Class)": 24, "Ours (Instance)": 32}[r.row]
            assert len(tuning) == grid and {(by_id[t].row, by_id[t].column) for t in tuning} == {(r.row, r.column)}
        else:
            assert r.config["method"]["name"] == "replay" and split["full_train"] and not r.config["method"]["static"]
            assert len(tuning) == {"Ours (Class)": 24, "Ours (Instance)": 32}[r.row]
            folds = [by_id[d] for d in r.depends_on if by_id[d].stage == "fold"]
            assert [f.fold for f in folds] == [0, 1, 2, 3, 4]
            assert {(f.row, f.column, f.seed) for f in folds} == {(r.row, r.column, r.seed)}
            assert r.config["method"]["learn"]["method"] == folds[0].config["method"]["name"]
        assert r.config["sweep"] == {"name": "table1", "stage": r.stage, "row": r.row, "column": r.column}  # W&B group
        # Table 9 presets: the optimiser follows the model
        assert r.config["optim"]["lr"] == {"resnet18": 0.4, "vgg16": 0.6}[r.config["model"]["name"]]


def test_table3_static_and_dynamic_finals_share_their_fold_runs():
    runs = expand_sweep(load_sweep(SWEEPS / "table3.yaml"), output_root="out")
    finals = [r for r in runs if r.stage == "final"]
    assert len(finals) == 2 * 2 * 3 and len({r.run_id for r in finals}) == 12
    static = {r.column: r.config["method"]["static"] for r in finals}
    assert static == {
        "Dynamic=no/Class": True,
        "Dynamic=yes/Class": False,
        "Dynamic=no/Instance": True,
        "Dynamic=yes/Instance": False,
    }
    pairs = {}
    for r in finals:
        pairs.setdefault((r.row, r.seed), set()).add(r.depends_on)
    assert all(len(deps) == 1 for deps in pairs.values())  # both columns wait for the same folds
    assert len({r.run_id for r in runs}) == 12 + 2 * 3 * 5 + 24 + 32  # + each row's tuning runs (class, instance)


@pytest.mark.slow
def test_noisy_tables_are_single_stage_with_every_method_in_its_setting():
    all_runs = expand_sweep(load_sweep(SWEEPS / "table6.yaml"), output_root="out")
    runs = [r for r in all_runs if r.stage not in ("tune", "teacher")]  # MentorNet's mentor runs: test_mentornet_sweeps
    assert {r.stage for r in runs} == {"single"} and len(runs) == 9 * 4 * 3
    tuning = [r for r in all_runs if r.stage == "tune"]  # each Ours is tuned in its own noisy setting, per column
    assert len(tuning) == 2 * 4 * 32 * 2 and {r.row for r in tuning} == {"Ours (Instance labels)", "Ours (setting A)"}
    assert all(
        r.config["split"]["meta_fraction"] == 0.02
        and r.config["noise"]["kind"] == "uniform"
        and r.config["method"]["curriculum"] == "entropy"
        for r in tuning
    )
    for r in runs:
        c = r.config
        assert c["model"]["name"] == "wrn28_10" and c["noise"]["kind"] == "uniform"
        assert c["split"]["meta_fraction"] == 0.02  # every row holds the same clean 2% out
    ours = [r for r in runs if r.row == "Ours (Instance labels)"]
    assert all(r.config["method"]["curriculum"] == "entropy" for r in ours)
    assert {(r.column, r.config["noise"]["fraction"]) for r in ours} == {
        ("CIFAR10/40%", 0.4),
        ("CIFAR10/60%", 0.6),
        ("CIFAR100/40%", 0.4),
        ("CIFAR100/60%", 0.6),
    }
    # the peers (and Ours on their recipe) train in setting A (Meta-Weight-Net's WRN-28-10 script: lr 0.1, batch 100,
    # 20,000 iterations); the one-hot row on Ours' recipe has Table 9's
    assert {(r.config["optim"]["lr"], r.config["optim"]["epochs"]) for r in runs if r.row.startswith("One-hot")} == {
        (0.5, 120)
    }
    for r in runs:
        if r.row not in ("Ours (Instance labels)", "One-hot (Ours' recipe)"):
            o = r.config["optim"]
            assert (o["lr"], o["iterations"], list(o["milestone_iterations"]), r.config["data"]["batch_size"]) == (
                0.1,
                20000,
                [18000, 19000],
                100,
            )
    assert {r.config["method"]["name"] for r in runs} == {
        "baseline",
        "focal_loss",
        "coteaching",
        "l2rw",
        "mwnet",
        "instance_labels",
        "mentornet",
    }
    t7_all = expand_sweep(load_sweep(SWEEPS / "table7.yaml"), output_root="out")
    t7_runs = [r for r in t7_all if r.stage not in ("tune", "teacher")]
    methods = {"baseline", "data_parameters", "l2rw", "instance_labels", "mentornet"}
    assert {r.config["method"]["name"] for r in t7_runs} == methods
    # MentorNet's rows train in MentorNet's own recipe (their numbers come from [7]): test_mentornet_sweeps
    peers = [r for r in t7_runs if r.row != "Ours (Instance labels)" and not r.row.startswith("MentorNet")]
    assert all(r.config["optim"]["epochs"] == 120 for r in peers)
    # Every row of Table 7 is on setting B's noise model (Data Parameters' exact fraction), so its Ours runs are its
    # own, not Table 6's CIFAR100/40% run; Ours keeps Table 9's recipe in both tables (the sweep files' reading).
    assert {r.config["noise"]["kind"] for r in t7_runs} == {"exact_fraction"}
    t7_ours = [r for r in t7_runs if r.row == "Ours (Instance labels)"]
    assert len(t7_ours) == 3 * 3 and not {r.run_id for r in t7_ours} & {r.run_id for r in runs}
    assert {(r.config["optim"]["lr"], r.config["optim"]["epochs"]) for r in t7_ours} == {(0.5, 120)}
    assert {(r.config["optim"]["lr"], r.config["optim"]["epochs"]) for r in ours} == {(0.5, 120)}
    setting_b = {
        (r.config["optim"]["lr"], r.config["optim"]["nesterov"]) for r in t7_runs if r.row == "Ours (setting B)"
    }
    assert setting_b == {(0.1, False)}  # Ours on the peers' recipe


# ------------------------------------------------------------------------------- the fast path equals Hydra


def _covering_sample(runs: list[tuple[str, PlannedRun]]) -> list[tuple[str, PlannedRun]]:
    """(sweep file, run) pairs that, together, use every sweep file, every stage, every group option
    (`model=wrn28_10`) and every key a dotted override sets (`method.label_lr`) at least once: greedily, the run that
    adds the most not yet used (the first in the plans' order on a tie). Hydra composes a run in about 0.1 s; the
    sample checks what the fast path could get wrong (a group's node, a key's assignment, a stage's overrides) in a
    fifth of the runs."""

    def features(path: str, run: PlannedRun) -> set[tuple[str, str]]:
        found = {("file", path), ("stage", run.stage)}
        for override in run.overrides:
            key = override.partition("=")[0]
            found.add(("key", key) if "." in key else ("group", override))
        return found

    candidates = [(pair, features(*pair)) for pair in runs]
    missing = set().union(*(used for _, used in candidates))
    sample = []
    while missing:
        pair, used = max(candidates, key=lambda c: len(c[1] & missing))
        sample.append(pair)
        missing -= used
    return sample


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.xdist_group(EVERY_SWEEP)
def test_fast_expansion_gives_exactly_what_repro_train_composes(tmp_path):
    """A covering sample (every file, stage, group option and override key) of the runs of every sweep file (first
    seed), scaled and with a command-line override: what the fast path gives is what `repro train` composes."""
    files = sorted(SWEEPS.rglob("*.yaml"))  # the paper tables and sweeps/demo/
    runs, seen = [], set()  # a run planned by several tables (a teacher, a shared baseline) is checked once
    for path in files:
        spec = load_sweep(path)
        spec = spec.select(seeds=spec.seeds[:1])
        scale = Scale(epochs=2, subset=300, test_subset=100)
        for r in expand_sweep(
            spec, output_root=tmp_path / "out dir", scale=scale, extra_overrides=["tracker.project=other"]
        ):
            if r.run_id not in seen:
                seen.add(r.run_id)
                runs.append((str(path.relative_to(SWEEPS)), r))
    sample = _covering_sample(runs)
    for name, r in sample:
        cfg = load_config(list(r.overrides))
        assert to_container(cfg) == r.config, (name, r.row, r.column, r.stage)
        assert run_id(to_container(cfg)) == r.run_id
    assert {name for name, _ in sample} == {str(p.relative_to(SWEEPS)) for p in files} and len(sample) > 50
