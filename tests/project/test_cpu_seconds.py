"""Each test's CPU seconds reach the run's summary and report, also from pytest-xdist's workers (tests/cpu_seconds.py),
and a first-tier test not marked slow that took more than its bound is named: the suite's growth is seen when it
happens. The small tree's tests burn a known amount of CPU (counted by `os.times()`, not by the clock), in the test's
process and in a child it waits for."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from cpu_seconds import SECOND_TIER_MARKERS
from repo_paths import REPO, TESTS

SPIN = "import os\nt = os.times()\nwhile sum(os.times()[:2]) - sum(t[:2]) < {seconds}: pass\n"
TESTS_FILE = """
import subprocess, sys
import pytest

SPIN = {spin!r}

def test_spins():
    exec(SPIN.format(seconds=0.4))

def test_waits_for_a_spinning_child():
    subprocess.run([sys.executable, "-c", SPIN.format(seconds=0.4)], check=True)

@pytest.mark.slow
def test_spins_marked_slow():
    exec(SPIN.format(seconds=0.4))

@pytest.mark.e2e
def test_spins_in_the_second_tier():
    exec(SPIN.format(seconds=0.4))

def test_quick():
    pass
"""


@pytest.mark.slow
def test_each_tests_cpu_seconds_are_reported_and_an_unmarked_expensive_test_is_named(tmp_path):
    tree, report = tmp_path / "tree", tmp_path / "cpu.tsv"
    tree.mkdir()
    (tree / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n    e2e: second tier\n")
    (tree / "conftest.py").write_text('pytest_plugins = ["cpu_seconds"]\n')
    (tree / "test_spin.py").write_text(textwrap.dedent(TESTS_FILE.format(spin=SPIN)))
    # of the installed plugins only xdist (`-p xdist`): Hydra's and anyio's cost each of the inner run's processes a
    # second of CPU and play no part here
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "--cpu-warn=0.3"]
    result = subprocess.run(
        [*cmd, f"--cpu-report={report}"], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cpu = {line.split("\t")[1].split("::")[1]: float(line.split("\t")[0]) for line in report.read_text().splitlines()}
    assert set(cpu) == {
        "test_spins",
        "test_waits_for_a_spinning_child",
        "test_spins_marked_slow",
        "test_spins_in_the_second_tier",
        "test_quick",
    }
    assert all(cpu[name] >= 0.4 for name in cpu if name != "test_quick")
    assert list(cpu).index("test_quick") == 4  # the most first
    warned = [line for line in result.stdout.splitlines() if line.startswith("WARNING: ")]
    assert sorted(line.split()[1].split("::")[1] for line in warned) == [
        "test_spins",
        "test_waits_for_a_spinning_child",
    ]


def test_the_makefiles_second_tier_is_the_markers_the_report_leaves_out_and_ci_runs_both_tiers(pytestconfig):
    """The Makefile selects the tiers by `TIER2`, tests/cpu_seconds.py tells them apart by SECOND_TIER_MARKERS: a
    marker added to one and not the other would put a test in one tier and count it in the other."""
    makefile = (REPO / "Makefile").read_text()
    tier2 = re.search(r"^TIER2 := (.+)$", makefile, re.MULTILINE)
    assert tier2 and tier2.group(1).split(" or ") == list(SECOND_TIER_MARKERS)
    assert '-m "not ($(TIER2))"' in makefile and '-m "$(TIER2)"' in makefile
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}  # pyproject.toml's
    assert set(SECOND_TIER_MARKERS) <= registered
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    # each tier's output kept where a reader finds it after a red run, its failures named in pytest's summary
    assert ci.index("make test 2>&1 | tee .ci/logs/test.log") < ci.index(
        "make test-e2e 2>&1 | tee .ci/logs/test-e2e.log"
    )
    assert "set -euo pipefail" in ci  # tee must not hide a tier's failure
    assert makefile.count("pytest -q -rfE") >= 2
