"""The README is a front door and docs/ a manual, not a notebook. The README stays short, names no date or commit, and
every figure in it is its source's: the demos' recorded summaries (docs/demo.md, docs/mnist1d.md, as `repro demo`
prints them) and the sweep files' dry runs (docs/costs.md). docs/results.md is the one dated record of results;
elsewhere in docs/ a line with a date, a commit hash or a measurement entry ("measured", "fresh clone", "loaded")
is rare, and docs/ as a whole stays a size a reader gets through. Every link of the README and docs/ leads to a page,
and to a heading of it, that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.demo_summary import print_summary
from recorded_sources import costs_rows, mean_and_std, recorded_summary, summary_cells
from repo_paths import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
RESULTS = DOCS / "results.md"
README_MAX_LINES = 150
DOCS_MAX_LINES = 7000
DIARY_MAX_SHARE = 0.02

DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# a commit as git abbreviates it (7-12 hex digits) or in full (40), with a digit and a letter; not a run id's hash
# (`digits-smallcnn-baseline-0123456789`, after a hyphen) nor an md5 (32 digits)
COMMIT = re.compile(r"(?<![\w-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])(?:[0-9a-f]{7,12}|[0-9a-f]{40})(?![\w-])")
MEASUREMENT_ENTRY = re.compile(r"\b(measured|fresh clones?|loaded)\b", re.IGNORECASE)

# A figure in the README: a decimal (not a version: "Python 3.10"), a mean ± std, a duration or a speed-up. Each
# must stand in a table row this file checks against its source.
FIGURE = re.compile(
    r"(?<!Python )(?<!torch )(?<![\w.])\d+\.\d+(?![\w.])"  # a decimal
    r"|\d\s*±\s*\d"  # a mean ± std
    r"|\b\d+\s*(?:s|min|minutes|seconds|h|hours)\b"  # a duration
    r"|\b\d+(?:\.\d+)?x\b"  # a speed-up
)
# The results table's columns name their source by the data it ran on.
SUMMARIES = {"digits": (DOCS / "demo.md", "digits"), "MNIST-1D": (DOCS / "mnist1d.md", "MNIST-1D")}
SWEEP_CELL = re.compile(r"`(sweeps/[\w/-]+\.yaml)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(number, line) of the lines outside fenced code blocks."""
    out, fenced = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((n, line))
    return out


def diary_lines(text: str) -> list[str]:
    """The lines of a page that carry a date, a commit hash or a measurement entry."""
    return [
        line for line in text.splitlines() if DATE.search(line) or COMMIT.search(line) or MEASUREMENT_ENTRY.search(line)
    ]


def test_the_patterns_find_a_diary_line_and_leave_a_manual_line():
    for line in ("on 2026-11-28", "main at 6c6d7c7", "before (ab33d53)", "Measured on one H200", "a fresh clone"):
        assert diary_lines(line), line
    for line in (
        "run `digits-smallcnn-coteaching-721e59da04`",
        "md5 `96644db5574813cae939af5f7f2a0aec`",
        "relative error < 1e-6",
        "the checkpoint is read back",
        "decade 1000000",
    ):
        assert not diary_lines(line), line
    for figure in ("93.82", "93.82 ± 0.93", "6 min", "244 s", "4.2x"):
        assert FIGURE.search(figure), figure
    for prose in ("Python 3.10+", "Tables 1-6", "40% noise", "3 seeds", "`repro plan --budget 200`", "H100-hours"):
        assert not FIGURE.search(prose), prose


def test_the_readme_is_a_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines, over {README_MAX_LINES}: link a page"
    dated = [f"{n}: {line}" for n, line in enumerate(lines, 1) if DATE.search(line) or COMMIT.search(line)]
    assert not dated, "README.md names a date or a commit (the dated record is docs/results.md):\n" + "\n".join(dated)


def _results_table(lines: list[tuple[int, str]]) -> tuple[dict[int, str], list[tuple[int, list[str]]]]:
    """The README's results table: {column index: data it quotes} from its header (first cell "table", a column
    per summary quoted, named by its data), and its rows (line, cells)."""
    columns, rows = {}, []
    for n, line in lines:
        cells = _cells(line) if line.lstrip().startswith("|") else []
        if not columns:
            if cells and cells[0] == "table":
                columns = {i: data for i, cell in enumerate(cells) for data in SUMMARIES if cell.startswith(data)}
        elif cells and not set(line.strip()) <= set("|-: "):
            rows.append((n, cells))
        elif not cells:
            break
    return columns, rows


def test_every_figure_in_the_readme_is_its_sources():
    """The results table quotes the demos' recorded summaries cell for cell, the cost table docs/costs.md's rows;
    no other line of the README carries a figure (a page that shows one with its command is linked instead)."""
    lines = _prose_lines(README.read_text(encoding="utf-8"))
    costs = costs_rows()
    checked = set()
    for n, line in lines:
        named = SWEEP_CELL.search(line)
        if line.lstrip().startswith("|") and named and named.group(1) in costs:
            cells = _cells(line)
            at = cells.index(f"`{named.group(1)}`")
            source = costs[named.group(1)]
            assert cells[at + 1 : at + 4] == source[:3], (line, "docs/costs.md says", source)
            checked.add(n)
    columns, rows = _results_table(lines)
    assert columns, f"README.md has no results table quoting {sorted(SUMMARIES)}"
    summaries = {data: recorded_summary(*SUMMARIES[data]) for data in set(columns.values())}
    for data, summary in summaries.items():
        assert summary, f"{SUMMARIES[data][0].name} records no summary of the full demo on {data}"
    for n, cells in rows:
        table, row = int(re.match(r"\d+", cells[0]).group()), cells[1]
        for i, data in columns.items():
            found = [ours for (t, r, _), ours in summaries[data].items() if (t, r) == (table, row)]
            assert len(found) == 1, f"README.md:{n}: Table {table}'s {row!r} is not one cell of the {data} summary"
            assert cells[i] == mean_and_std(found[0]), (
                f"README.md:{n}: {data} Table {table} {row}: {cells[i]} where "
                f"{SUMMARIES[data][0].relative_to(REPO)} records {mean_and_std(found[0])}"
            )
        checked.add(n)
    loose = [f"{n}: {line}" for n, line in lines if n not in checked and FIGURE.search(INLINE_CODE.sub("", line))]
    assert not loose, "README.md figures with no source a test compares them with:\n" + "\n".join(loose)


def test_the_summary_reader_reads_what_the_demo_prints(tmp_path, capsys):
    """recorded_summary reads the layout print_summary writes: a page that records the demo's output verbatim
    is read cell for cell."""
    csv = tmp_path / "table6.csv"
    csv.write_text(
        "table,row,column,ours,ours_planned\n"
        '6,Baseline,Digits/40%,"73.53 ± 0.65 (n=3; at best val epoch: 90.41 ± 3.55)",3\n'
        '6,Ours (Instance labels),Digits/40%,"93.82 ± 0.93 (n=3; tuned: label_lr=200)",3\n',
        encoding="utf-8",
    )
    print_summary([csv.with_suffix(".md")], {}, trained=[], failed=[], size="full", seconds=1.0, names=())
    printed = capsys.readouterr().out
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n\n```\n$ repro demo\n{printed}```\n", encoding="utf-8")
    assert recorded_summary(page, "digits") == summary_cells(printed)
    assert recorded_summary(page, "digits") == {
        (6, "Baseline", "Digits/40%"): "73.53 ± 0.65 (n=3; at best val epoch: 90.41 ± 3.55)",
        (6, "Ours (Instance labels)", "Digits/40%"): "93.82 ± 0.93 (n=3; tuned: label_lr=200)",
    }
    assert recorded_summary(page, "MNIST-1D") == {}


def _docs_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_docs_outside_the_record_of_results_are_no_diary():
    pages = [page for page in _docs_pages() if page != RESULTS]
    counted = {page: diary_lines(page.read_text(encoding="utf-8")) for page in pages}
    lines = sum(len([x for x in page.read_text(encoding="utf-8").splitlines() if x.strip()]) for page in pages)
    diary = sum(len(found) for found in counted.values())
    worst = sorted(counted.items(), key=lambda item: -len(item[1]))[:8]
    assert diary <= DIARY_MAX_SHARE * lines, (
        f"{diary} of docs/'s {lines} non-blank lines outside results.md carry a date, a commit hash or a measurement "
        f"entry ({diary / lines:.1%}, over {DIARY_MAX_SHARE:.0%}): show one current figure with its command, move a "
        "dated result to docs/results.md and leave history to git. Most: "
        + ", ".join(f"{page.relative_to(REPO)} {len(found)}" for page, found in worst)
    )


def test_docs_stay_a_size_a_reader_gets_through():
    sizes = {page: len(page.read_text(encoding="utf-8").splitlines()) for page in _docs_pages()}
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:8]
    assert sum(sizes.values()) <= DOCS_MAX_LINES, (
        f"docs/ has {sum(sizes.values())} lines, over {DOCS_MAX_LINES}. Largest: "
        + ", ".join(f"{page.relative_to(REPO)} {n}" for page, n in largest)
    )


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens, a repeated
    heading numbered."""
    anchors, seen = set(), {}
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize("page", [README, *_docs_pages()], ids=lambda page: str(page.relative_to(REPO)))
def test_every_link_leads_to_a_page_and_heading_that_exist(page):
    broken = []
    for n, line in _prose_lines(page.read_text(encoding="utf-8")):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{n}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{n}: {target} (no such heading)")
    assert not broken, f"{page.relative_to(REPO)} links nowhere:\n" + "\n".join(broken)
