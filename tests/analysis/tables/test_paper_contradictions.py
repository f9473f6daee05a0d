"""The paper's contradictions with itself that paper_tables/paper/README.md lists: each is listed there, its
arithmetic holds on the transcribed cells (always), and its quoted words are the paper's (when ../shared/paper
exists, as for the cell-by-cell check)."""

from __future__ import annotations

import pytest

from repo_paths import REPO
from repro.claims.paper import paper_cells, text_numbers

PAPER = REPO.parent / "shared" / "paper" / "learning-soft-labels-via-meta-learning.md"
README = REPO / "paper_tables" / "paper" / "README.md"


def cell(table: int, row: str, column: str) -> float:
    return paper_cells(table)[(row, column)].mean


# (words the paper prints, what the README says of them, the arithmetic on the printed cells that contradicts them)
CONTRADICTIONS = [
    (
        "improves over baseline by 1.8% and 0.4%",
        'class labels improve ResNet18 on CIFAR100 "by 1.8%"',
        lambda: (
            round(cell(1, "Ours (Class)", "CIFAR100/ResNet18") - cell(1, "Baseline", "CIFAR100/ResNet18"), 2) == 1.7
        ),
    ),
    (
        "and 0.9% at 60% noise (see Table 6)",
        "59.4 - 58.8 = 0.6 at 60%",
        lambda: round(cell(6, "Ours (Instance labels)", "CIFAR100/60%") - cell(6, "MWNet", "CIFAR100/60%"), 2) == 0.6,
    ),
    (
        "As shown in Figure 3, the model trained with fixed labels at convergence performs worse",
        "the dynamic-versus-static comparison is Table 3",
        lambda: cell(3, "Class", "Dynamic=no/Class") < cell(3, "Class", "Dynamic=yes/Class"),
    ),
    (
        "outperform state-of-the-art at all levels of noise",
        '"at all levels of noise"; Table 7 at 80% has Ours at',
        lambda: cell(7, "Ours (Instance labels)", "CIFAR100/80%") < cell(7, "Data Parameters", "CIFAR100/80%"),
    ),
    (
        "corrected 7% of the noisy samples of CIFAR100 in the 40% noise setting",
        "7 / 40 = 17.5% of the noisy",
        lambda: next(t.mean for t in text_numbers() if t.claim == "Noise at top-1 removed") / 40 == 0.175,
    ),
]


@pytest.mark.parametrize("words, listed, arithmetic", CONTRADICTIONS, ids=[c[0][:30] for c in CONTRADICTIONS])
def test_each_contradiction_is_listed_and_its_arithmetic_holds(words, listed, arithmetic):
    assert listed in " ".join(README.read_text(encoding="utf-8").split())
    assert arithmetic()


@pytest.mark.skipif(not PAPER.is_file(), reason=f"paper markdown not found at {PAPER}; the arithmetic still ran")
@pytest.mark.parametrize("words", [c[0] for c in CONTRADICTIONS])
def test_each_contradiction_quotes_the_papers_own_words(words):
    text = " ".join(PAPER.read_text(encoding="utf-8").split())
    assert words in text
    assert "reaching 33% noise at top-1" in text and "Figure 3: Examples of noisy instances" in text
