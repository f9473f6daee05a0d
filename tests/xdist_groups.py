"""The suite's pytest-xdist groups (`--dist loadgroup`, tests/conftest.py): which worker-sized pieces the tests
are dealt in, and in which order the workers take them.

xdist sends the tests of one group to one worker by reading the group from a "@<group>" suffix that its worker
hook appends to each test's node id. Since pytest 9.2 a node id is a structured `NodeId` and xdist 3.8 still
writes the old `_nodeid` field, so the suffix never reaches the id and every test is dealt alone: nothing fails,
the groups are simply gone (known upstream: "--dist=loadgroup silently stops grouping"). `group_items` therefore
puts the suffix on the id itself where the old field is gone; tests/project/test_xdist_groups.py runs xdist on a
small tree to check that a group still lands on one worker.
"""

from __future__ import annotations

import pytest


def group_items(config: pytest.Config, items: list[pytest.Item], slurm_groups: int) -> None:
    """Give every test its group, and order the groups heaviest first.

    A test file is a group (its module fixtures are built once), except: the SLURM tests are dealt round-robin, in
    collection order, into `slurm_groups` groups, which run side by side on the session's one local cluster
    (slurm_cluster.py; each test waits mostly on the scheduler and its jobs); and the tests marked with one
    `xdist_group` name share a group (repo_paths.EVERY_SWEEP: the tests that expand every sweep file, the second
    and later finding the process's composition caches warm). Ordered the SLURM groups first, then the groups
    with a `slow` test, then the rest, each in collection order, so the last groups the workers pick are short."""
    slurm_items = [item for item in items if "slurm" in item.keywords]
    slurm = {item.nodeid: f"slurm-{k % slurm_groups}" for k, item in enumerate(slurm_items)}

    def group(item: pytest.Item) -> str:
        if item.nodeid in slurm:
            return slurm[item.nodeid]
        named = item.get_closest_marker("xdist_group")  # tests of several files that share a process's caches
        return named.args[0] if named else item.nodeid.split("::")[0]

    groups = {item.nodeid: group(item) for item in items}
    slow_groups = {groups[item.nodeid] for item in items if "slow" in item.keywords}
    # stable: a group's tests keep their order and stay together
    items.sort(key=lambda item: 0 if item.nodeid in slurm else 1 if groups[item.nodeid] in slow_groups else 2)
    loadgroup = config.getvalue("loadgroup") if hasattr(config.option, "loadgroup") else False  # an xdist worker's
    for item in items:
        name = groups[item.nodeid]
        if item.get_closest_marker("xdist_group") is None:  # xdist joins every group a test is marked with
            item.add_marker(pytest.mark.xdist_group(name))
        if loadgroup and not hasattr(item, "_nodeid"):  # pytest >= 9.2: xdist's own suffix is lost (above)
            item._id = type(item._id).parse(f"{item.nodeid}@{name}")
