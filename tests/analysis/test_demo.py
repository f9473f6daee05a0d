"""`repro demo`: the quick demo writes every table and figure it promises and prints its summary, a second call
trains nothing, and the demo's sweep files agree on the runs that tables share."""

from __future__ import annotations

from dataclasses import replace

import matplotlib.image
import pandas as pd
import pytest
import torch

from analysis import demo
from repo_paths import EVERY_SWEEP, REPO
from repro.claims.load import load_claims
from repro.cli import main
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

TABLES = (1, 2, 3, 4, 5, 6)


def _files(root):
    return {p: p.stat().st_mtime_ns for p in (root / "runs").rglob("*") if p.is_file()}


QUICK_SIZE = demo.demo_size  # the command's own, before the test below patches it


def _smaller_quick(quick: bool) -> demo.DemoSize:
    """`--quick`'s size (one seed, tuning too; the same scale wherever a table's teachers are another table's runs)
    on 200 training and 100 test samples, the supervised tables at 2 epochs: what the assertions below need, a
    quarter less CPU than `--quick`'s 300 / 150 and 4 epochs. The noisy tables keep their epochs: Figure 3 needs
    noisy labels corrected, which takes the 30 (at 10 or 20 none is, and the figure is skipped)."""
    size = QUICK_SIZE(quick)
    if not quick:
        return size
    scales = {
        n: replace(s, epochs=2 if s.epochs is not None else None, subset=200, test_subset=100)
        for n, s in size.scales.items()
    }
    return replace(size, scales=scales)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.xdist_group(EVERY_SWEEP)
def test_quick_demo_writes_tables_figures_and_summary_then_reruns_without_training(tmp_path, capsys, monkeypatch):
    root = tmp_path / "demo out"
    monkeypatch.setattr(demo, "demo_size", _smaller_quick)
    # one run at a time, in this process: no forkserver importing torch again (tests/sweep/test_sweep_parallel.py
    # checks that parallel workers train the same numbers)
    assert main(["demo", "--quick", "--jobs", "1", "--output-root", str(root)]) == 0
    first = capsys.readouterr().out

    size = demo.demo_size(quick=True)
    specs = demo.demo_specs(size)
    assert sorted(specs) == list(TABLES)
    planned = {
        r.run_id
        for n, spec in specs.items()
        for r in expand_sweep(
            spec, output_root=root, scale=size.scale(n), extra_overrides=[*demo.RUN_OVERRIDES, *demo.NO_WANDB]
        )
    }
    assert len({p.name for p in (root / "runs").iterdir()}) == len(planned)
    assert f"{len(planned)} run(s) trained now" in first

    summary = first.split("== Demo summary (quick) ==")[1]
    claims = summary.split("== The paper's claims in these runs")[1]  # the summary ends with the ledger
    assert "Ours (Instance) > Baseline" in claims and (root / "tables" / "ledger.png").is_file()
    assert f"with {torch.backends.cpu.get_cpu_capability()} kernels" in summary  # which CPU kernels made these digits
    for n, spec in specs.items():
        md, csv = root / "tables" / f"table{n}.md", root / "tables" / f"table{n}.csv"
        assert md.is_file() and str(md) in summary and str(csv) in summary
        ours = pd.read_csv(csv)
        ours = ours[ours["ours_planned"] > 0]
        assert set(ours["row"]) == set(spec.rows), n
        assert (ours["ours_n"] == ours["ours_planned"]).all(), f"table {n}: a planned run is not averaged"
        for row, column, text in ours[["row", "column", "ours"]].itertuples(index=False):
            assert any(row in line and column in line and text in line for line in summary.splitlines()), (row, text)
    # every tuned cell shows the values its runs chose, in its table and in the summary
    tuned_cells = {1: 2, 2: 3, 3: 4, 4: 4, 5: 2, 6: 2}  # Table 6: Ours, Ours (setting A) (no curriculum: --extra)
    for n, count in tuned_cells.items():
        frame = pd.read_csv(root / "tables" / f"table{n}.csv")
        tuned = frame[frame["tuned"].notna() & (frame["ours_planned"] > 0)]
        assert len(tuned) == count, n
        assert all(f"tuned: {t}" in text for t, text in zip(tuned["tuned"], tuned["ours"]))
    assert "tuned: temperature=" in summary and "tuned: label_lr=" in summary and "tuned: epsilon=" in summary
    for name in demo.FIGURES:
        png = root / "figures" / f"{name}.png"
        assert str(png) in summary
        image = matplotlib.image.imread(png)
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image[..., :3].std() > 0.05, f"{name}.png is blank"

    runs_before = _files(root)
    outputs_before = {p: p.stat().st_mtime_ns for p in [*(root / "tables").iterdir(), *(root / "figures").iterdir()]}
    assert main(["demo", "--quick", "--jobs", "1", "--output-root", str(root)]) == 0
    second = capsys.readouterr().out
    assert second.count("nothing to submit: every run is done") == len(TABLES)
    assert "0 run(s) trained now" in second
    assert _files(root) == runs_before, "the second call rewrote or added run files"
    assert all(p.stat().st_mtime_ns != t for p, t in outputs_before.items()), "tables and figures not regenerated"


@pytest.mark.slow  # expands the demo's sweep files: seconds of CPU
@pytest.mark.parametrize("sweeps", [demo.DEMO_SWEEPS, demo.MNIST1D_SWEEPS], ids=["digits", "mnist1d"])
def test_demo_tables_share_the_runs_they_have_in_common(sweeps):
    """Table 2's Baseline / Ours (Instance) and Table 3's folds and dynamic finals are Table 1's runs: the sweep files
    repeat the tuning grids, and a drift would silently train (and report) different runs (the digits demo's and
    `repro demo --mnist1d`'s alike)."""

    def runs(n):
        return expand_sweep(load_sweep(sweeps / f"table{n}.yaml"), output_root="out")

    t1, t2, t3 = runs(1), runs(2), runs(3)
    reported = {(r.row, r.seed): r.run_id for r in t1 if r.stage in ("single", "final")}
    assert {
        (r.row, r.seed): r.run_id
        for r in t2
        if r.row in ("Baseline", "Online Label Smoothing", "Ours (Instance)") and r.stage in ("single", "final")
    } == {k: v for k, v in reported.items() if k[0] != "Ours (Class)"}
    renamed = {"Class": "Ours (Class)", "Instance": "Ours (Instance)"}
    assert {(renamed[r.row], r.seed): r.run_id for r in t3 if r.stage == "final" and "yes" in r.column} == {
        k: v for k, v in reported.items() if k[0] not in ("Baseline", "Online Label Smoothing")
    }
    assert {r.run_id for r in t3 if r.stage == "fold"} == {r.run_id for r in t1 if r.stage == "fold"}
    # the tuning runs too: Tables 1-3 tune the same cells with the same grids, trained once
    assert {r.run_id for r in t3 if r.stage == "tune"} == {r.run_id for r in t1 if r.stage == "tune"}
    assert {r.run_id for r in t2 if r.stage == "tune" and r.row == "Ours (Instance)"} == {
        r.run_id for r in t1 if r.stage == "tune" and r.row == "Ours (Instance)"
    }


@pytest.mark.slow  # expands the demo's sweep files: seconds of CPU
def test_the_rows_only_extra_runs_leave_the_other_rows_runs_unchanged():
    """`make demo` leaves out EXTRA_ROWS (rows no claim of its ledger reads: Table 6's no-curriculum and data
    parameters rows, Tables 1-2's Online Label Smoothing) and `--extra` puts them back; the rows both run keep the
    same runs (dropping a row must not rename what the tables, the figures and the ledger read), MentorNet's mentor
    runs (its row's teachers) among them."""

    size = demo.demo_size(quick=False)
    paper, extra = demo.demo_specs(size), demo.demo_specs(size, extra=True)
    assert demo.EXTRA_ROWS, "nothing to check"
    for number, rows in demo.EXTRA_ROWS.items():
        assert set(rows) <= set(extra[number].rows) and not set(rows) & set(paper[number].rows), number
        without, within = (expand_sweep(specs[number], output_root="out") for specs in (paper, extra))
        assert {(r.row, r.stage, r.run_id) for r in without} == {
            (r.row, r.stage, r.run_id) for r in within if r.row not in rows
        }, number
        if number == 6:  # MentorNet's row, with its mentor runs as teachers: in `make demo` as in `--extra`
            mentors = [
                {r.run_id for r in runs if r.config["method"]["name"] == "mentornet_mentor"}
                for runs in (without, within)
            ]
            assert "MentorNet" in paper[6].rows and len(mentors[0]) == 3 and mentors[0] == mentors[1]


def planned_claims(specs) -> set[tuple[int, str]]:
    """The claims every cell of which the sweeps plan (in some column): what the ledger answers once their runs are
    done (tests/analysis/ledger/: a claim with finished runs in every cell has a line)."""
    found = set()
    for claim in load_claims():
        spec = specs.get(claim.table)
        if spec is None:
            continue
        cells = {(row, column): None for row in spec.rows if row not in spec.needs for column in spec.row_columns(row)}
        if claim.anchors(cells):
            found.add((claim.table, claim.name))
    return found


def test_the_default_demo_answers_every_claim_it_answered_before_mentornets_among_them():
    """`make demo` plans every cell of 25 claims (24 at 191e849 less MentorNet's, which moved to `--extra` for time,
    then back), so its ledger answers them; what `--extra` adds answers more, Lukasik et al.'s two among them (demo
    Tables 12-13). Counted from the planned cells, without training."""
    size = demo.demo_size(quick=False)
    default, extra = planned_claims(demo.demo_specs(size)), planned_claims(demo.demo_specs(size, extra=True))
    assert len(default) >= 25 and (6, "Ours (setting A) > MentorNet") in default
    assert default < extra
    lukasik = {(12, "Lukasik et al.: Label Smoothing (tuned) ≈ Forward (known T)"),
               (13, "Lukasik et al.: Label Smoothing teacher > One-hot teacher")}  # fmt: skip
    assert lukasik <= extra


def test_demo_refuses_an_output_root_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    assert main(["demo", "--quick", "--output-root", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "not a directory"


@pytest.mark.slow
def test_the_mnist1d_demo_runs_the_papers_tables_1_2_3_and_6_under_their_row_names():
    """`repro demo --mnist1d` plans sweeps/mnist1d/: Tables 1, 2, 3 and 6 with 5 seeds, each row named as in the
    paper's sweep file of its table or the digits demo's (what a claim about "Table 1: instance labels over one-hot"
    finds its rows by), and every file expands."""
    specs = demo.demo_specs(demo.demo_size(quick=False), sweeps_dir=demo.MNIST1D_SWEEPS)
    assert sorted(specs) == [1, 2, 3, 6]
    # the set docs/mnist1d.md measured: MentorNet's row only with --extra, Online Label Smoothing and data parameters in
    assert "MentorNet" not in specs[6].rows and "Data Parameters" in specs[6].rows
    assert "Online Label Smoothing" in specs[1].rows
    for number, spec in specs.items():
        assert spec.seeds == [0, 1, 2, 3, 4]
        paper, digits = (load_sweep(folder / f"table{number}.yaml") for folder in (REPO / "sweeps", demo.DEMO_SWEEPS))
        assert set(spec.rows) <= set(paper.rows) | set(digits.rows), number
        assert expand_sweep(spec, output_root="out")
    quick = demo.demo_specs(demo.demo_size(quick=True), sweeps_dir=demo.MNIST1D_SWEEPS)
    assert [spec.seeds for spec in quick.values()] == [[0]] * 4
