"""The step benchmarks' memory column (benchmarks/peak_memory.py): one step's peak resident-set growth after a warm-up
call, each variant measured in a fresh process whose figure the parent reads back."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from benchmarks import meta_step, reweighting
from benchmarks.peak_memory import child_peak_mib, peak_rss_growth_mib

MIB = 2**20


def test_the_peak_is_what_the_measured_call_touches_not_what_the_process_held_before():
    held = torch.ones(128 * MIB // 4)  # 128 MiB resident before the measurement, freed before it starts
    del held
    calls = []

    def step() -> None:
        calls.append("step")
        torch.ones(32 * MIB // 4).add_(1)  # 32 MiB touched, then freed

    grown = peak_rss_growth_mib(step, setup=lambda: calls.append("setup"))
    assert calls == ["setup", "step", "setup", "step"]  # a warm-up call, then the measured one
    assert 28 <= grown <= 64, grown  # the 32 MiB (and allocator slack), not the 128 MiB peak before it
    assert peak_rss_growth_mib(lambda: None) < 16


@pytest.mark.slow
def test_each_benchmark_measures_a_variant_in_a_child_and_reads_its_figure(monkeypatch, capsys):
    plain = meta_step.measure_memory("smallcnn", "plain", batch=8, meta_batch=8, threads=1)  # a real child
    assert isinstance(plain, float) and plain >= 0
    # the other benchmark's child, run here from the arguments it is given (a second process would only repeat the
    # imports): its figure is what the parent reads
    asked = []
    monkeypatch.setattr(reweighting, "child_peak_mib", lambda module, args, what: asked.append((module, args)) or 1.0)
    assert reweighting.memory_of(argparse.Namespace(device="cpu", threads=1), "smallcnn", "l2rw_ours", 8, 8) == 1.0
    ((module, args),) = asked
    assert module == "benchmarks.reweighting"
    reweighting.main(args)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["peak_mib"] >= 0


def test_a_child_that_fails_gives_no_figure_and_says_which(capsys):
    assert child_peak_mib("benchmarks.no_such_benchmark", [], "the plain step") is None
    assert "memory measurement of the plain step failed" in capsys.readouterr().err
