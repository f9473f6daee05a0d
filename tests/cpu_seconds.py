"""CPU seconds per test, so that the suite's growth is seen when it happens (docs/tests.md, "Tiers and budgets").

Wall time says little on a shared machine, so each test is measured in CPU seconds: user + system time of the test
process and of the children it waited for (`os.times()`), from the start of its setup to the end of its teardown.
What a test starts and does not wait for (the local SLURM cluster's daemons and jobs) is not counted; a module or
session fixture is counted on the first test that requests it.

At the end of every run the terminal summary names the tests of the first tier (`make test`) that took more
than `FAST_TIER_WARN_CPU_S` (`--cpu-warn`) without a `slow` mark, and the first tier's total against its budget:
warnings, not failures, since the same test's CPU seconds move by 10-20 % with the machine's load and a shared
fixture's first user pays for it. `--cpu-report=FILE` also writes every test's CPU seconds, the most first.
Works under pytest-xdist: a worker puts each test's figure on its teardown report, the controller gathers them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

# A test not marked `slow` that takes more than this (`--cpu-warn` sets another) is named in the summary: the inner
# loop (`make test-fast`) keeps its budget only while each of its tests stays well under a second (the `slow` mark's
# bound is ~0.3 s); 3 s leaves room for the load's noise and for a shared fixture's first user.
FAST_TIER_WARN_CPU_S = 3.0
# The markers of the second tier (`make test-e2e`): what `make test` leaves out (Makefile's TIER1).
SECOND_TIER_MARKERS = ("e2e", "slurm")
# `make test` must finish in 300 s on two quiet cores: 600 CPU-s, less about 20 s of the session's start (collection,
# xdist's workers importing torch) on each core. Under load the same tests take up to twice the CPU seconds
# (docs/tests.md), so a loaded run may warn where a quiet one would not.
FIRST_TIER_BUDGET_CPU_S = 560.0

_START = pytest.StashKey[float]()
_PROPERTY = "cpu_s"
# the "@<group>" that tests/xdist_groups.py puts on a node id under `--dist loadgroup`
_GROUP_SUFFIX = re.compile(r"@[^\[\]:@]*$")


def _cpu_now() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True)
class TestCpu:
    nodeid: str
    cpu_s: float
    markers: frozenset[str]

    @property
    def second_tier(self) -> bool:
        return bool(self.markers.intersection(SECOND_TIER_MARKERS))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-report",
        metavar="FILE",
        default=None,
        help="write each test's CPU seconds (process + waited-for children), most first, tab-separated, to FILE",
    )
    parser.addoption(
        "--cpu-warn",
        metavar="SECONDS",
        type=float,
        default=FAST_TIER_WARN_CPU_S,
        help=f"name a first-tier test not marked slow that took more CPU seconds (default {FAST_TIER_WARN_CPU_S})",
    )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    item.stash[_START] = _cpu_now()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    if call.when == "teardown" and _START in item.stash:
        # on the report's user properties, which pytest-xdist carries from a worker to the controller
        item.user_properties.append((_PROPERTY, round(_cpu_now() - item.stash[_START], 3)))
    yield


class CpuLedger:
    """The controller's record of every finished test's CPU seconds."""

    def __init__(self, report: Path | None, warn_cpu_s: float) -> None:
        self.tests: list[TestCpu] = []
        self.report = report
        self.warn_cpu_s = warn_cpu_s
        if report:
            report.write_text("")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        cpu = dict(report.user_properties).get(_PROPERTY)
        if cpu is None:
            return
        test = TestCpu(_GROUP_SUFFIX.sub("", report.nodeid), float(cpu), frozenset(report.keywords))
        self.tests.append(test)
        if self.report:  # as the tests finish, so that a run stopped early still leaves its figures
            with self.report.open("a") as out:
                out.write(self._line(test))

    def pytest_terminal_summary(self, terminalreporter, config: pytest.Config) -> None:
        if not self.tests:
            return
        first = [t for t in self.tests if not t.second_tier]
        unmarked = sorted(
            (t for t in first if "slow" not in t.markers and t.cpu_s > self.warn_cpu_s),
            key=lambda t: -t.cpu_s,
        )
        total = sum(t.cpu_s for t in self.tests)
        first_total = sum(t.cpu_s for t in first)
        terminalreporter.section("CPU seconds (tests/cpu_seconds.py)")
        terminalreporter.write_line(
            f"{total:.0f} CPU-s in {len(self.tests)} tests (their processes and waited-for children); "
            f"first tier (not {' / '.join(SECOND_TIER_MARKERS)}): {first_total:.0f} CPU-s in {len(first)} tests"
        )
        if first and len(first) == len(self.tests) and first_total > FIRST_TIER_BUDGET_CPU_S:
            terminalreporter.write_line(
                f"WARNING: the first tier took {first_total:.0f} CPU-s, over its ~{FIRST_TIER_BUDGET_CPU_S:.0f} "
                "(300 s on two quiet cores; a loaded machine inflates it): cut a test, or mark an end-to-end one `e2e` "
                "(docs/tests.md)",
                yellow=True,
            )
        for test in unmarked:
            terminalreporter.write_line(
                f"WARNING: {test.nodeid} took {test.cpu_s:.1f} CPU-s and is not marked slow "
                f"(over {self.warn_cpu_s:g}; a shared fixture's first user pays for it: see docs/tests.md)",
                yellow=True,
            )
        if self.report:
            self.report.write_text("".join(self._line(t) for t in sorted(self.tests, key=lambda t: -t.cpu_s)))
            terminalreporter.write_line(f"per-test CPU seconds written to {self.report}, the most first")

    @staticmethod
    def _line(test: TestCpu) -> str:
        marks = ",".join(sorted(test.markers.intersection({"slow", "gpu", *SECOND_TIER_MARKERS})))
        return f"{test.cpu_s:.2f}\t{test.nodeid}\t{marks}\n"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        report = config.getoption("cpu_report")
        config.pluginmanager.register(
            CpuLedger(Path(report) if report else None, config.getoption("cpu_warn")), "cpu_ledger"
        )
