"""The suite's xdist groups hold (tests/xdist_groups.py): under `--dist loadgroup` every test of a group runs on one
worker. With pytest 9.2 and xdist 3.8 the groups were silently gone (each test dealt alone) until xdist_groups.py
put the group on the node id itself; this runs xdist on a small tree that groups its tests the suite's way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import defaultdict

import pytest

from repo_paths import TESTS

CONFTEST = """
    import pytest
    from xdist_groups import group_items

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(config, items):
        group_items(config, items, slurm_groups=2)
"""
TEST_FILE = """
    import os
    import pytest

    @pytest.mark.parametrize("i", range(4))
    {mark}
    def test_records_its_worker(i, request):
        out = os.environ["WORKERS_OUT"]
        with open(os.path.join(out, request.node.name + "-{name}"), "w") as f:
            f.write(os.environ["PYTEST_XDIST_WORKER"])
"""


@pytest.mark.slow
def test_each_group_runs_on_one_worker(tmp_path):
    tree, out = tmp_path / "tree", tmp_path / "out"
    tree.mkdir(), out.mkdir()
    (tree / "pytest.ini").write_text("[pytest]\nmarkers =\n    slurm: uses the cluster\n    slow: slow\n")
    (tree / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    for name in "abcd":
        (tree / f"test_{name}.py").write_text(textwrap.dedent(TEST_FILE.format(name=name, mark="")))
    (tree / "test_s.py").write_text(textwrap.dedent(TEST_FILE.format(name="s", mark="@pytest.mark.slurm")))
    # of the installed plugins only xdist (`-p xdist`): Hydra's and anyio's cost each of the inner run's processes a
    # second of CPU and play no part here
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "WORKERS_OUT": str(out)}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "xdist",
        "-n",
        "2",
        "--dist",
        "loadgroup",
    ]
    result = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    workers: dict[str, set[str]] = defaultdict(set)
    for f in out.iterdir():
        i, name = int(f.name.split("[")[1].split("]")[0]), f.name.rsplit("-", 1)[1]
        group = f"slurm-{i % 2}" if name == "s" else name  # the SLURM tests dealt round-robin into two groups
        workers[group].add(f.read_text())
    assert len(list(out.iterdir())) == 20
    assert {group: len(w) for group, w in workers.items()} == dict.fromkeys(
        ["a", "b", "c", "d", "slurm-0", "slurm-1"], 1
    )
