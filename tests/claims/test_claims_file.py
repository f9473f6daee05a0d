"""paper_tables/claims.csv read by repro/claims/load.py: every table and kind is declared, each claim's paper contrast
comes from the printed cells (never typed in claims.csv), like-for-like rows stand in for the paper's, and a column
the paper does not print takes the paper's matching column (said which), never the mean over all of them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pytest

from repo_paths import REPO
from repro.claims.claim import COMPARABLE, GAIN, INTERACTION, NOT_PRINTED, RECORDED, parse_terms
from repro.claims.decision import LineModel, Spread
from repro.claims.load import CLAIMS_PATH, COLUMNS, load_claims
from repro.claims.paper import paper_cells
from repro.claims.seed_power import seed_power_text
from repro.claims.stats import PAIRED, WELCH
from repro.errors import UserError


def by_name(claims):
    return {(c.table, c.name): c for c in claims}


def test_every_table_and_every_kind_is_declared_with_the_papers_own_numbers():
    claims = [c for c in load_claims() if c.paper_prints]
    assert {c.table for c in claims} == set(range(1, 9))
    assert {c.kind for c in claims} == {GAIN, INTERACTION, COMPARABLE, RECORDED}
    assert len(claims) >= 25
    for claim in claims:
        cells = paper_cells(claim.table)
        for line in claim.paper_lines:  # each printed cell as the paper's table has it
            assert all(cells[(cell.row, cell.column)] == cell for _, cell in line.cells)
    assert all(c.margin and c.margin_reason for c in claims if c.kind is COMPARABLE)
    assert {c.table for c in claims if c.kind is COMPARABLE} >= {4, 7, 8}
    table8 = [c for c in claims if c.table == 8]
    assert table8 and all(c.kind is COMPARABLE for c in table8)  # "comparable", not a gain


def test_interactions_and_mixed_signs_are_declared_as_the_paper_prints_them():
    claims = by_name(load_claims())
    resnet = claims[(1, "Instance gain: ResNet18 > VGG16")]
    (line,) = resnet.paper_lines
    assert line.diff == pytest.approx((79.2 - 77.1) - (75.3 - 74.5))  # 2.1 - 0.8
    sensitivity = claims[(4, "Instance-label teacher less sensitive to temperature")]
    assert sensitivity.paper_lines[0].diff == pytest.approx((45.2 - 42.1) - (45.7 - 45.2))
    generally = claims[(5, "ResNet18's labels > VGG16's")]
    assert sorted(round(p.diff, 2) for p in generally.paper_lines) == [-0.5, 0.4, 0.6]  # reversed in one column


def test_like_for_like_rows_stand_in_for_the_papers_rows():
    claims = by_name(load_claims())
    setting_a = claims[(6, "Ours (setting A) > MWNet")]
    assert setting_a.stand_in and setting_a.rows == ["Ours (setting A)", "MWNet"]
    assert [t.row for t in setting_a.paper_terms] == ["Ours (Instance labels)", "MWNet"]
    assert setting_a.paper_difference("CIFAR100/40%").value == pytest.approx(69.7 - 67.7)
    recipe = claims[(6, "Ours (Instance labels) > One-hot (Ours' recipe)")]
    assert recipe.anchors([("Ours (Instance labels)", "CIFAR10/40%"), ("One-hot (Ours' recipe)", "CIFAR10/40%")]) == [
        "CIFAR10/40%"
    ]


def test_a_column_the_paper_lacks_takes_its_matching_columns_and_says_which():
    claims = by_name(load_claims())
    baseline = claims[(6, "Ours (setting A) > Baseline")]
    digits = baseline.paper_difference("Digits/40%")
    assert digits.value == pytest.approx(statistics.fmean([90.4 - 68.1, 69.7 - 51.1]))  # +20.45: the 40% columns
    assert digits.how == "mean of CIFAR10/40%, CIFAR100/40%"
    table1 = claims[(1, "Ours (Instance) > Baseline")]
    nothing_alike = table1.paper_difference("Digits/SmallCNN")
    assert nothing_alike.value == pytest.approx(0.3) and "its smallest, CIFAR10/ResNet18" in nothing_alike.how
    static = claims[(3, "Class: dynamic > static")]
    assert static.paper_difference("MNIST-1D Dynamic=yes/Class").value == pytest.approx(78.8 - 77.2)
    l2rw = claims[(7, "Ours (setting B) > L2RW")]
    assert l2rw.paper_difference("CIFAR100/20%").value is None  # the paper prints "-" there: no number borrowed
    assert l2rw.paper_difference("CIFAR100/20%").how == NOT_PRINTED
    top5 = claims[(6, "Top-5 label accuracy at convergence")]
    assert top5.paper_difference("CIFAR100/40%").value == 90.0
    assert top5.paper_difference("CIFAR10/40%").value is None


def test_lukasik_et_al_s_claims_are_ours_to_judge_with_no_paper_number_borrowed():
    """Their result tables could not be reached: the claims of Tables 11-13 (tables of ours) carry no paper number in
    any column, a comparable one its margin and why, and a gain is judged on its sign."""
    theirs = {(c.table, c.name): c for c in load_claims() if not c.paper_prints}
    level = "Lukasik et al.: Label Smoothing (tuned) ≈ Forward (known T)"
    teacher = "Lukasik et al.: Label Smoothing teacher > One-hot teacher"
    assert set(theirs) == {(11, level), (12, level), (13, teacher)}
    for claim in theirs.values():
        assert not claim.paper_lines and not claim.paper_numbers and not claim.stand_in
        for column in ("CIFAR10/20%", "CIFAR10/ResNet-32", "Digits/40%"):
            paper = claim.paper_difference(column)
            assert paper.value is None and paper.text() == "" and paper.estimate() is None
    assert theirs[(11, level)].kind is COMPARABLE and theirs[(11, level)].margin == 1.0
    assert "could not be reached" in theirs[(11, level)].margin_reason
    assert [t.row for t in theirs[(12, level)].terms] == ["Label Smoothing (tuned)", "Forward (known T)"]
    assert theirs[(13, teacher)].kind is GAIN
    assert [t.row for t in theirs[(13, teacher)].terms] == ["Label Smoothing teacher", "One-hot teacher"]


def test_the_docs_count_the_claims_the_file_holds():
    claims = load_claims()
    paper, theirs = sum(c.paper_prints for c in claims), sum(not c.paper_prints for c in claims)
    tables, readme = (" ".join((REPO / f).read_text(encoding="utf-8").split()) for f in ("docs/tables.md", "README.md"))
    assert f"The paper's {paper} claims:" in tables and f"{theirs} lines of Lukasik et al.'s two claims" in tables
    assert f"{len(claims)} in all" in tables and f"each of the paper's {paper} claims" in readme


def test_a_claim_of_a_table_no_paper_prints_has_no_paper_rows_and_a_paper_table_needs_its_file(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(",".join(COLUMNS) + "\n12,x,gain,+A; -B,+C; -D,,,,,x\n", encoding="utf-8")
    with pytest.raises(UserError, match="no paper rows to stand in for"):
        load_claims(path)
    path.write_text(",".join(COLUMNS) + "\n3,x,gain,+Class [Dynamic=yes]; -Class [Dynamic=no],,,,,,x\n")
    with pytest.raises(UserError, match="The paper's numbers for Table 3 are not at"):
        load_claims(path, paper_dir=tmp_path)  # a table of the paper's: its file missing is an error, not "no number"


def test_terms_parse_and_refuse_what_they_cannot_read():
    terms = parse_terms("+Class [Dynamic=yes]; -Class [Dynamic=no]")
    assert [(t.coef, t.row, t.setting) for t in terms] == [(1, "Class", "Dynamic=yes"), (-1, "Class", "Dynamic=no")]
    with pytest.raises(ValueError, match="not a term"):
        parse_terms("Class minus Baseline")
    with pytest.raises(ValueError, match="first term"):
        parse_terms("+Class; -Class [Dynamic=no]")


@pytest.mark.parametrize(
    "line, says",
    [
        ("1,x,gain,+Ours (Magic); -Baseline,,,,,,x", "has no row 'Ours (Magic)'"),
        ("1,x,smaller,+Ours (Class); -Baseline,,,,,,x", "kind 'smaller' is not one of"),
        ("8,x,comparable,+Ours (Class); -Label Smoothing,,,,,,x", "needs a positive margin"),
        ("8,x,comparable,+Ours (Class); -Label Smoothing,,,0.5,,,x", "needs a positive margin"),
        ("1,x,gain,+Ours (Class); -Baseline,,,0.5,why,,x", "only a comparable claim has a margin"),
        ("1,x,interaction,+Ours (Class); -Baseline,,,,,,x", "contrasts 4 cell(s)"),
        ("1,x,recorded,+Ours (Class),,,,,,x", "a measure is given for recorded claims"),
        ("3,x,gain,+Class [Dynamic=maybe]; -Class [Dynamic=no],,,,,,x", "prints no column with every cell"),
    ],
)
def test_a_bad_claim_line_is_one_paragraph_naming_the_line(tmp_path, line, says):
    path = tmp_path / "claims.csv"
    path.write_text(",".join(COLUMNS) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 2") as err:
        load_claims(path)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_the_shipped_claims_file_is_the_default():
    assert CLAIMS_PATH.is_file() and len(load_claims(CLAIMS_PATH)) == len(load_claims())


@dataclass
class Planned:
    row: str
    column: str
    seed: int
    config: dict


@dataclass
class Spec:
    table: int
    metric: str = "final_test_acc"


@dataclass
class Plan:
    spec: Spec
    runs: list


def cifar(seed: int | None) -> dict:
    """A planned run's config: with a seed, its runs of one seed share their initialisation (the ledger pairs them)."""
    config = {"model": {"name": "resnet18"}, "data": {"name": "cifar10"}, "split": {"full_train": True}}
    return config if seed is None else {**config, "seed": seed}


@pytest.mark.parametrize(("seeded", "design"), [(True, PAIRED), (False, WELCH)])
def test_the_dry_runs_table_says_what_the_planned_seeds_detect_from_the_papers_spread(seeded, design):
    """In the design the ledger will choose for the planned runs: paired where a seed's runs share a draw."""
    rows = ["Baseline", "Ours (Class)", "Ours (Instance)"]
    planned = [Planned(r, "CIFAR10/ResNet18", s, cifar(s if seeded else None)) for r in rows for s in range(3)]
    text = seed_power_text(Plan(Spec(1), planned))
    assert "What 3 seed(s) per cell can decide (Table 1's claims" in text
    line = next(x for x in text.splitlines() if x.startswith("| Ours (Instance) > Baseline"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    # the paper's 95.3 ± 0.1 vs 95.0 ± 0.1 over 3 runs each, each std at least one of 10,000 test images
    model = LineModel(Spread((1.0, -1.0), cell_sds=(0.1, 0.1)), 0.01, design, 0.3)
    assert cells[2] == "+0.30" and float(cells[3]) == pytest.approx(model.detectable(3), abs=0.005)
    assert int(cells[4]) == model.seeds_for(0.3)
    assert "cannot be decided with 3 seeds" in text and "Not planned by this sweep" in text
    more = Plan(Spec(1), [Planned(r, "CIFAR10/ResNet18", s, cifar(s)) for r in rows for s in range(10)])
    assert "What 10 seed(s)" in seed_power_text(more)
    assert seed_power_text(Plan(Spec(None), planned)) == ""  # not a table of the paper: nothing to say


def test_the_dry_run_says_a_claim_without_a_paper_number_has_none():
    rows = ["Label Smoothing (tuned)", "Forward (known T)"]
    plan = Plan(Spec(12), [Planned(r, "CIFAR10/20%", s, cifar(s)) for r in rows for s in range(3)])
    line = next(x for x in seed_power_text(plan).splitlines() if x.startswith("| Lukasik et al."))
    assert [c.strip() for c in line.strip("|").split("|")][2:4] == ["", "no paper number: judged on our runs alone"]


def test_the_papers_own_lines_are_judged_by_the_same_rule():
    """Of the 38 paper lines behind the gains of Tables 1, 2, 3 and 6, six are not significant by the ledger's own rule
    applied to the paper's printed means ± stds over 3 runs (Welch, 95%)."""
    claims = by_name(load_claims())
    names = [(1, "Ours (Instance) > Baseline"), (1, "Ours (Class) > Baseline"), (3, "Class: dynamic > static"),
             (2, "Ours (Instance) > Label Smoothing"), (2, "Ours (Instance) > Confidence Penalty"),
             (3, "Instance: dynamic > static")]  # fmt: skip
    names += [(6, f"Ours (setting A) > {peer}") for peer in ("Baseline", "Focal Loss", "Co-teaching", "MentorNet",
                                                            "L2RW", "MWNet")]  # fmt: skip
    verdicts = {}
    for key in names:
        claim = claims[key]
        for line in claim.paper_lines:
            paper = claim.paper_difference(line.anchor)
            verdicts[(key[1], line.anchor)] = claim.kind.judge.significant(paper.estimate(), paper.side, None)
    assert len(verdicts) == 38
    assert {k for k, significant in verdicts.items() if not significant} == {
        ("Ours (Class) > Baseline", "CIFAR100/VGG16"),
        ("Ours (Class) > Baseline", "CIFAR10/ResNet18"),
        ("Ours (Class) > Baseline", "CIFAR10/VGG16"),
        ("Ours (setting A) > MWNet", "CIFAR100/60%"),
        ("Ours (setting A) > MentorNet", "CIFAR100/40%"),
        ("Ours (setting A) > MentorNet", "CIFAR10/60%"),
    }
