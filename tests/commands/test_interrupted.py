"""An interrupted command ends with one line saying what the interruption left: a training command's run resumes
from its checkpoint, while `repro bench` stored nothing, so its line must not promise a resume (repro/cli.py)."""

from __future__ import annotations

import sys
import types

import pytest

from repro import cli
from repro.commands import bench


def _fake_command(monkeypatch, when: str | None) -> None:
    module = types.ModuleType("fake_command")
    module.add_arguments = lambda parser: None

    def run(args):
        raise KeyboardInterrupt

    module.run = run
    if when is not None:
        module.WHEN_INTERRUPTED = when
    monkeypatch.setitem(sys.modules, "fake_command", module)
    monkeypatch.setitem(cli.COMMANDS, "fake", ("fake_command", "a command that is interrupted"))


@pytest.mark.parametrize("when", [None, "nothing was stored; run it again."])
def test_interrupted_command_says_what_it_left(monkeypatch, capsys, when):
    _fake_command(monkeypatch, when)
    assert cli.main(["fake"]) == 130
    err = capsys.readouterr().err.strip()
    assert err == f"interrupted (SIGINT): {when or cli.RESUMABLE}"


def test_bench_does_not_promise_a_resume():
    assert "checkpoint" not in bench.WHEN_INTERRUPTED and "resume" not in bench.WHEN_INTERRUPTED
