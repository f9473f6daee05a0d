"""Where the repository and the shared test files are, for test modules at any depth under tests/: a test file
that moves between folders keeps its paths right.

    from repo_paths import REPO, TESTS

    SWEEPS = REPO / "sweeps"
    FIXTURE = TESTS / "fixtures" / "analysis_wandb_runs.json"
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
