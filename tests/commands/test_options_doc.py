"""docs/options.md is made from the declarations, so a key's documented type, range and meaning cannot drift from
the code: regenerate it with `python -m repro.commands.options_doc > docs/options.md`. A fresh process makes it, so
kinds and methods other tests register in this one are not listed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from repo_paths import REPO


@pytest.mark.slow
def test_docs_options_md_is_what_the_declarations_say():
    made = subprocess.run(
        [sys.executable, "-m", "repro.commands.options_doc"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert made == (REPO / "docs" / "options.md").read_text(), (
        "docs/options.md differs from the declarations; regenerate it: "
        "python -m repro.commands.options_doc > docs/options.md"
    )
    for key in ("optim.lr", "noise.fraction", "method.label_lr", "method.record.topk", "method.learn.overrides"):
        assert f"| `{key}` |" in made, key
