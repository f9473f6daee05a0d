"""What a user reads first: `repro --help` says what the tool does and the three commands most people need before
the list of commands; code and docs cite no tracker issue numbers (a reader cannot follow them); the package
metadata installs without setuptools' deprecation text (an SPDX `project.license`)."""

from __future__ import annotations

import re

from analysis.commands import FIGURE_NAMES
from analysis.figures.make import FIGURES, resolve_name
from repo_paths import REPO
from repro.cli import COMMANDS, main

# Where a reader meets the project's prose: code, tests, docs, benchmarks and the sweep files' headers.
PROSE = ["repro", "analysis", "tests", "docs", "benchmarks", "sweeps", "slurm", "README.md", "Makefile"]
TRACKER_REFERENCE = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
# Paths that exist on the development machine only: its checkouts (/work/...), a home directory (/root/..., /home/...,
# /Users/...) and the fresh clones measurements were taken in (/tmp/fresh...). Not a path a user types (/data/cifar,
# /tmp/out): those stay.
MACHINE_PATH = re.compile(r"(?<![\w.~$-])(/(work|root|home|Users)/|/tmp/fresh)")


def test_repro_help_opens_with_what_it_does_and_the_first_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    first_page = out[: out.index("commands:")]
    assert "Learning Soft Labels via Meta Learning" in first_page
    for command in ("repro demo", "repro train ", "repro sweep "):
        assert command in first_page, command
    assert "add_arguments" not in out  # no internal docstring


def test_no_tracker_issue_numbers_in_code_or_docs():
    files = [p for root in PROSE for p in ([REPO / root] if (REPO / root).is_file() else (REPO / root).rglob("*"))]
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in files
        if path.is_file() and path.suffix in (".py", ".md", ".yaml", ".sh", "") and "__pycache__" not in path.parts
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if TRACKER_REFERENCE.search(line)
    ]
    assert not found, "say what the thing does instead of citing the tracker:\n" + "\n".join(found)


def test_the_docs_name_no_path_of_the_development_machine():
    pages = [REPO / "README.md", *sorted(REPO.glob("docs/**/*.md")), *sorted(REPO.glob("*/**/README.md"))]
    found = [
        f"{page.relative_to(REPO)}:{n}: {line.strip()}"
        for page in pages
        if ".venv" not in page.parts
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if MACHINE_PATH.search(line)
    ]
    assert not found, "write what a user would type (a relative path, <repository>, $CHECKOUT):\n" + "\n".join(found)
    for path in ("/work/main/.venv/bin/repro", "git clone x /tmp/fresh-t10", "(/root/x)", "`/home/a/b`"):
        assert MACHINE_PATH.search(path), path
    for path in ("/data/cifar", "/tmp/out", "$HOME/.netrc", "./work/x", "data.root=/scratch/u/cifar"):
        assert not MACHINE_PATH.search(path), path


def test_the_license_is_an_spdx_expression():
    """A `project.license` table makes setuptools print a screen of deprecation text on every install; a string
    (an SPDX expression) needs setuptools >= 77 as the build requirement."""
    text = (REPO / "pyproject.toml").read_text()  # tomllib is Python 3.11+; the project supports 3.10
    assert re.search(r'^license = "MIT"', text, re.MULTILINE), "project.license must be a string"
    assert int(re.search(r'"setuptools>=(\d+)', text).group(1)) >= 77


def test_the_figures_help_names_every_figure():
    """`repro --help` counts the figures and `repro figures --figures` lists them: both follow FIGURES."""
    assert sorted(resolve_name(name) for name in FIGURE_NAMES) == sorted(FIGURES)
    paper_figures = [name for name in FIGURES if name in ("figure2", "figure3", "figure4")]
    ours = len(FIGURES) - len(paper_figures)
    words = {7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    assert f"Figures 2-4 and {words.get(ours, ours)} of ours" in COMMANDS["figures"][1]
