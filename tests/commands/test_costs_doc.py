"""GPU-hours are quoted once: docs/costs.md is made from every sweep file's dry run (regenerate it with
`python -m repro.commands.costs_doc > docs/costs.md`), and a total quoted in README.md, docs/ or a sweep file's header
must be one of its figures, so a change that moves a table's cost cannot leave an old figure standing."""

from __future__ import annotations

import re

import pytest

from recorded_sources import COSTS, costs_rows
from repo_paths import EVERY_SWEEP, REPO
from repro.commands import costs_doc

# a figure quoted as GPU-hours: "983.86 GPU-hours", "325 H100-hours", "450 H100 GPU-hours", "at least 50.88 GPU-hours"
# or as a header's "GPU-hours: 983.86 = ..." / "GPU-hours (...): at least 20.18"
QUOTED = re.compile(
    r"(\d+(?:\.\d+)?(?:e-\d+)?)\s+(?:H100\s+)?(?:GPU|H100)-hours"
    r"|(?:GPU|H100)-hours(?: \([^)]*\))?:\s+(?:at least\s+)?(\d+(?:\.\d+)?(?:e-\d+)?)"
)


def _figures() -> set[str]:
    cells = [cell for row in costs_rows().values() for cell in row]
    return {n for cell in cells for n in re.findall(r"\d+(?:\.\d+)?(?:e-\d+)?", cell)}


def _quoted(text: str) -> list[str]:
    return [a or b for a, b in QUOTED.findall(" ".join(text.split()))]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.xdist_group(EVERY_SWEEP)
def test_docs_costs_md_is_what_the_dry_runs_say(capsys):
    # in this process: `python -m repro.commands.costs_doc` is main() writing to stdout, and a fresh interpreter
    # would only add the seconds of importing torch
    assert costs_doc.main() == 0
    made = capsys.readouterr().out
    assert made == COSTS.read_text(), (
        "docs/costs.md differs from the sweep files' dry runs; regenerate it: "
        "python -m repro.commands.costs_doc > docs/costs.md"
    )


def test_the_readme_table_quotes_docs_costs_md():
    page = costs_rows()
    quoted = 0
    for line in (REPO / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        at = next((i for i, c in enumerate(cells) if re.fullmatch(r"`sweeps/[\w-]+\.yaml`", c)), None)
        if at is None or cells[at].strip("`") not in page or len(cells) < at + 4:
            continue
        runs, hours, halving = page[cells[at].strip("`")][:3]
        assert cells[at + 1 : at + 4] == [runs, hours, halving], (line, "docs/costs.md says", runs, hours, halving)
        quoted += 1
    assert quoted or "docs/costs.md" in (REPO / "README.md").read_text()  # quotes the page's rows, or points to it


def test_a_total_quoted_in_the_readme_text_is_one_of_docs_costs_md():
    stale = [n for n in _quoted((REPO / "README.md").read_text()) if n not in _figures()]
    assert not stale, f"README.md quotes GPU-hour totals that are not docs/costs.md's: {stale}; point to docs/costs.md"


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md") if p.name != "costs.md")
)
def test_a_total_quoted_in_the_docs_is_one_of_docs_costs_md(path):
    stale = [n for n in _quoted((REPO / path).read_text()) if n not in _figures()]
    assert not stale, f"{path} quotes GPU-hour totals that are not docs/costs.md's: {stale}; point to docs/costs.md"


def test_a_total_quoted_in_a_sweep_files_header_is_one_of_docs_costs_md():
    for path in sorted((REPO / "sweeps").rglob("*.yaml")):
        comments = "\n".join(line for line in path.read_text().splitlines() if line.lstrip().startswith("#"))
        stale = [n for n in _quoted(comments) if n not in _figures()]
        assert not stale, f"{path.name} quotes GPU-hour totals that are not docs/costs.md's: {stale}"
