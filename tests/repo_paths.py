"""Where the checkout and the shared test files are, for test modules at any depth under tests/: a test file
that moves between folders keeps its paths right.

    from repo_paths import REPO, TESTS

    SWEEPS = REPO / "sweeps"
    FIXTURE = TESTS / "fixtures" / "analysis_wandb_runs.json"
"""

from __future__ import annotations

import subprocess

from repro.checkout import CHECKOUT_ROOT

REPO = CHECKOUT_ROOT  # the checkout root, one constant for the code base (repro/checkout.py)
TESTS = REPO / "tests"

# The pytest-xdist group (`@pytest.mark.xdist_group(EVERY_SWEEP)`) of the tests that expand every sweep file: one
# worker runs them, one after another, and the second and later find the process's composition caches warm
# (repro/sweep/expand/build.py's COMPOSER: Hydra composes each group selection once per process).
EVERY_SWEEP = "every-sweep-file"


def tracked_files(folder: str) -> set[str]:
    """The files git tracks under `folder` of the checkout (paths relative to the checkout root)."""
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPO, capture_output=True, text=True, check=True)
    return {line for line in listed.stdout.splitlines() if line}
