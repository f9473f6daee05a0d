"""The ledger of the paper's claims (analysis/ledger/): fabricated run directories with known differences, read by
the same code as `repro tables` (collect_runs, build_table), each interval checked against scipy's own t-test
intervals (scipy.stats.ttest_rel / ttest_ind(equal_var=False)), every verdict, the design rule, partial seed overlap,
the one-image floor. No training. `repro ledger` itself: test_ledger_command.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scipy import stats

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.ledger.render import render_markdown
from repro.claims.load import load_claims
from repro.claims.stats import PAIRED, WELCH
from repro.claims.verdicts import CONSISTENT, LARGER, ONE_SEED, OPPOSITE, UNDETECTABLE
from repro.data.sizes import run_sizes
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun

# Table 1's layout, one scenario per column: {(row, column): {seed: final_test_acc, None: failed}}.
BASE = {0: 0.700, 1: 0.720, 2: 0.740}
VALUES = {
    ("Baseline", "CIFAR100/ResNet18"): BASE,
    ("Ours (Instance)", "CIFAR100/ResNet18"): {0: 0.725, 1: 0.740, 2: 0.770},  # +2.5, +2.0, +3.0: reproduced
    ("Baseline", "CIFAR100/VGG16"): BASE,
    ("Ours (Instance)", "CIFAR100/VGG16"): {0: 0.710, 1: 0.710, 2: 0.745},  # +1.0, -1.0, +0.5: not significant
    ("Baseline", "CIFAR10/ResNet18"): BASE,
    ("Ours (Instance)", "CIFAR10/ResNet18"): {0: 0.690, 1: 0.705, 2: 0.732},  # -1.0, -1.5, -0.8: opposite
    ("Baseline", "CIFAR10/VGG16"): BASE,
    ("Ours (Instance)", "CIFAR10/VGG16"): {0: 0.800, 1: None, 2: None},  # one seed finished
    ("Ours (Class)", "CIFAR100/ResNet18"): {10: 0.760, 11: 0.790, 12: 0.770, 13: 0.800},  # no shared seed: Welch
}
CONFIG = {"data": {"name": "digits"}, "split": {"full_train": True}, "model": {"name": "smallcnn"}, "seed": 0}
ONE_IMAGE = 100.0 / run_sizes(CONFIG)[2]  # digits' test set: one image in points


@dataclass
class FakeSpec:
    """A stand-in with repro.sweep.spec.SweepSpec's API: run ids chosen by hand, every cell a plain run."""

    values: dict = field(default_factory=lambda: VALUES)
    name: str = "table1"
    metric: str = "final_test_acc"
    configs: dict = field(default_factory=dict)  # (row, column) -> its config (default CONFIG)

    @property
    def rows(self):
        return list(dict.fromkeys(row for row, _ in self.values))

    @property
    def columns(self):
        return list(dict.fromkeys(column for _, column in self.values))

    def expand(self, *, output_root, scale=None):
        return [
            PlannedRun(run_id(row, column, seed), row, column, seed, "single", None, (), self.config(row, column))
            for (row, column), seeds in self.values.items()
            for seed in seeds
        ]

    def config(self, row, column):
        return self.configs.get((row, column), CONFIG)


def run_id(row: str, column: str, seed: int) -> str:
    return "-".join("".join(c for c in text if c.isalnum()) for text in (row, column, str(seed))).lower()


def write_run(root: Path, rid: str, value: float | None, config: dict = CONFIG) -> None:
    rd = RunDir(root / "runs" / rid)
    rd.path.mkdir(parents=True)
    rd.write_config(config)
    rd.write_status("done" if value is not None else "failed", epoch=3, message="" if value is not None else "nan")
    if value is not None:
        rd.write_summary({"final_test_acc": value, "epochs": 3})


def fabricate(root: Path, values: dict, configs: dict | None = None) -> None:
    """Each run's config.yaml holds its cell's config (default CONFIG) with its seed, as a trained run's does."""
    for (row, column), seeds in values.items():
        for seed, value in seeds.items():
            config = {**(configs or {}).get((row, column), CONFIG), "seed": seed}
            write_run(root, run_id(row, column, seed), value, config)


def percent(row: str, column: str, seeds=None, values=VALUES) -> list[float]:
    found = values[(row, column)]
    return [100 * found[s] for s in (seeds or found) if found[s] is not None]


def ledger_of(root: Path, values: dict, tables=(1, 2), only: str = "", **spec) -> object:
    """The ledger of fabricated runs of Table 1's layout, for the claims of `tables` (only the one named `only`)."""
    fabricate(root, values, spec.get("configs"))
    claims = [c for c in load_claims(tables=list(tables)) if not only or c.name == only]
    return build_ledger(collect_runs(root), {1: FakeSpec(values, **spec)}, claims, output_root=root, sweeps="fake")


@pytest.fixture
def ledger(tmp_path):
    return ledger_of(tmp_path, VALUES)


def line(ledger, claim: str, column: str):
    return next(x for x in ledger.lines if x.claim.name == claim and x.anchor == column)


def test_paired_interval_is_scipys_and_each_verdict_follows_from_it(ledger):
    design, why = ledger.designs[1]  # the lines with the same seeds in every cell pair them, the others are Welch's
    assert design is None and why.startswith("paired t on 5 line(s): their cells' runs of one seed share its ")
    assert why.endswith("; Welch t on 2 line(s): 2 without the same seeds in every cell")
    for column, verdict in [
        ("CIFAR100/ResNet18", CONSISTENT),  # +2.5 [+1.26, +3.74]: the paper's +2.1 inside
        ("CIFAR100/VGG16", UNDETECTABLE),  # holds 0; the paper's +0.8 is below what these 3 seeds detect
        ("CIFAR10/ResNet18", OPPOSITE),
    ]:
        found = line(ledger, "Ours (Instance) > Baseline", column)
        expected = stats.ttest_rel(percent("Ours (Instance)", column), percent("Baseline", column))
        low, high = expected.confidence_interval(0.95)
        assert found.ours.design is PAIRED and found.ours.n_shared == 3
        assert found.ours.interval() == (pytest.approx(low), pytest.approx(high))
        assert found.verdict is verdict
        assert found.paper.how == "" and found.paper.side == 1  # the paper's own column: its difference is > 0
    assert line(ledger, "Ours (Instance) > Baseline", "CIFAR100/VGG16").detectable > 0.8


def test_welch_interval_where_no_seed_is_shared(ledger):
    found = line(ledger, "Ours (Class) > Baseline", "CIFAR100/ResNet18")
    expected = stats.ttest_ind(
        percent("Ours (Class)", "CIFAR100/ResNet18"), percent("Baseline", "CIFAR100/ResNet18"), equal_var=False
    )
    low, high = expected.confidence_interval(0.95)
    assert found.ours.design is WELCH and found.seeds_text() == "4 vs 3"
    assert found.ours.interval() == (pytest.approx(low), pytest.approx(high))
    assert found.paper.value == pytest.approx(1.7) and 1.7 < low  # 78.0 vs 72.0: above 0, and above the paper's
    assert found.verdict is LARGER


def test_one_finished_seed_gives_no_interval_and_missing_claims_are_one_line_each(ledger):
    found = line(ledger, "Ours (Instance) > Baseline", "CIFAR10/VGG16")
    assert found.verdict is ONE_SEED and not found.ours.has_interval
    assert found.ours.diff == pytest.approx(80.0 - 72.0)
    missing = {m.claim.name: m.reason for m in ledger.missing if m.claim.table == 2}  # no sweep for Table 2
    assert missing == {
        "Ours (Instance) > Label Smoothing": "no sweep file for Table 2 in fake",
        "Ours (Instance) > Confidence Penalty": "no sweep file for Table 2 in fake",
    }
    assert len([x for x in ledger.lines if x.claim.name == "Ours (Instance) > Baseline"]) == 4


def test_a_row_the_sweep_does_not_plan_and_a_side_without_finished_runs_are_named(tmp_path):
    values = {
        ("Baseline", "Digits/SmallCNN"): {0: None, 1: None},
        ("Ours (Instance)", "Digits/SmallCNN"): {0: 0.99, 1: 0.98},
    }
    ledger = ledger_of(tmp_path, values, tables=(1,))
    assert not ledger.lines
    reasons = {m.claim.name: m.reason for m in ledger.missing}
    assert reasons["Ours (Instance) > Baseline"] == "no finished run in Baseline / Digits/SmallCNN (0 of 2 done)"
    assert reasons["Ours (Class) > Baseline"] == "the sweep plans no run of 'Ours (Class)'"


def test_a_papers_loss_flips_the_verdict_and_equal_differences_keep_a_positive_width(tmp_path):
    # Table 5's "ResNet18's labels > VGG16's" is -0.5 in the paper's ResNet18 column: there ours is judged on that side
    values = {
        ("VGG16", "Train=VGG16/Transfer=ResNet18"): {0: 0.80, 1: 0.81, 2: 0.82},
        ("ResNet18", "Train=ResNet18/Transfer=ResNet18"): {0: 0.79, 1: 0.80, 2: 0.81},  # -1.0 every seed
    }
    fabricate(tmp_path, values)
    claims = [c for c in load_claims(tables=[5]) if c.name == "ResNet18's labels > VGG16's"]
    ledger = build_ledger(collect_runs(tmp_path), {5: FakeSpec(values, name="table5")}, claims, output_root=tmp_path)
    (found,) = ledger.lines
    assert found.paper.value == pytest.approx(-0.5) and found.paper.side == -1
    low, high = found.ours.interval()
    assert found.ours.floored and high - low == pytest.approx(2 * stats.t.ppf(0.975, 2) * ONE_IMAGE / math.sqrt(3))
    assert found.verdict is LARGER  # -1.0 every seed: on the paper's side of 0, beyond its -0.5
    assert "≥1 image" in render_markdown(ledger)


def test_the_design_follows_what_the_runs_of_a_seed_share_never_which_interval_is_narrower(tmp_path):
    values = {  # ResNet18: seeds that barely correlate, Welch's the narrower; VGG16: +1.0, +1.3, +1.6, paired's
        ("Baseline", "CIFAR100/ResNet18"): {0: 0.700, 1: 0.750, 2: 0.720},
        ("Ours (Instance)", "CIFAR100/ResNet18"): {0: 0.760, 1: 0.730, 2: 0.770},
        ("Baseline", "CIFAR100/VGG16"): {0: 0.700, 1: 0.720, 2: 0.740},
        ("Ours (Instance)", "CIFAR100/VGG16"): {0: 0.710, 1: 0.733, 2: 0.756},
    }
    resnet, vgg = "CIFAR100/ResNet18", "CIFAR100/VGG16"
    shared = ledger_of(tmp_path / "shared", values, tables=(1,), only="Ours (Instance) > Baseline")
    found = line(shared, "Ours (Instance) > Baseline", resnet)  # the runs of one seed share its draws: paired
    b, w = percent("Ours (Instance)", resnet, values=values), percent("Baseline", resnet, values=values)
    paired, welch = stats.ttest_rel(b, w).confidence_interval(0.95), stats.ttest_ind(b, w, equal_var=False)
    assert welch.confidence_interval(0.95).high - welch.confidence_interval(0.95).low < paired.high - paired.low
    assert found.ours.interval() == (pytest.approx(paired.low), pytest.approx(paired.high))
    assert "initialisation" in found.shared_draws and shared.designs[1][0] is PAIRED
    assert "paired t on 2 line(s): their cells' runs of one seed share its initialisation" in shared.designs[1][1]

    # Ours' runs recorded on another data set (its config.yaml): no draw of a seed is shared, so Welch, although
    # VGG16's paired interval is the narrower
    apart = {(row, column): {**CONFIG, "data": {"name": "mnist1d"}} for row, column in values if row != "Baseline"}
    ledger = ledger_of(tmp_path / "apart", values, tables=(1,), only="Ours (Instance) > Baseline", configs=apart)
    found = line(ledger, "Ours (Instance) > Baseline", vgg)
    b, w = percent("Ours (Instance)", vgg, values=values), percent("Baseline", vgg, values=values)
    welch = stats.ttest_ind(b, w, equal_var=False).confidence_interval(0.95)
    paired = stats.ttest_rel(b, w).confidence_interval(0.95)
    assert paired.high - paired.low < welch.high - welch.low and found.shared_draws == ()
    assert found.ours.interval() == (pytest.approx(welch.low), pytest.approx(welch.high))
    assert found.other.interval() == (pytest.approx(paired.low), pytest.approx(paired.high))
    assert ledger.designs[1] == (WELCH, "Welch t on 2 line(s): 2 whose cells' runs of one seed share no draw")
    assert found.verdict is UNDETECTABLE and found.other_verdict is CONSISTENT  # the designs disagree: both shown
    assert "not detectable at these seeds (paired t: consistent with the paper)" in render_markdown(ledger)


def test_partial_seed_overlap_keeps_every_run_and_says_what_the_pairs_alone_give(tmp_path):
    values = {
        ("Baseline", "CIFAR100/ResNet18"): {0: 0.70, 1: 0.72, 2: 0.74, 3: 0.80, 4: 0.82},
        ("Ours (Instance)", "CIFAR100/ResNet18"): {0: 0.705, 1: 0.724},
    }
    ledger = ledger_of(tmp_path, values, tables=(1,))
    found = line(ledger, "Ours (Instance) > Baseline", "CIFAR100/ResNet18")
    b, w = [70.5, 72.4], [70.0, 72.0, 74.0, 80.0, 82.0]
    assert found.ours.design is WELCH and found.ours.diff == pytest.approx(sum(b) / 2 - sum(w) / 5)  # -4.14
    assert found.partial_overlap and found.seeds_text() == "2 vs 5 (2 shared)"
    assert found.paired.diff == pytest.approx(0.45)  # the shared seeds alone: never shown as the line's value
    md = render_markdown(ledger)
    assert "the cells' seeds differ" in md and "paired over the 2 shared seeds alone: +0.45" in md


def test_rows_that_differ_in_recipe_or_tuning_say_so_in_their_verdict(tmp_path):
    values = {
        ("Baseline", "CIFAR100/ResNet18"): {0: 0.70, 1: 0.72, 2: 0.74},
        ("Ours (Instance)", "CIFAR100/ResNet18"): {0: 0.725, 1: 0.740, 2: 0.770},
    }
    long = {**CONFIG, "optim": {"epochs": 120, "lr": 0.5}, "tune": {"keys": ["method.label_lr"]},
            "method": {"name": "instance_labels", "label_lr": 50.0}}  # fmt: skip
    short = {**CONFIG, "optim": {"epochs": 30, "lr": 0.5}, "method": {"name": "focal_loss", "gamma": 2.0}}
    configs = {("Ours (Instance)", "CIFAR100/ResNet18"): long, ("Baseline", "CIFAR100/ResNet18"): short}
    ledger = ledger_of(tmp_path, values, tables=(1,), configs=configs)
    found = line(ledger, "Ours (Instance) > Baseline", "CIFAR100/ResNet18")
    assert "rows differ in recipe: optim.epochs 120 vs 30" in found.notes
    tuning = "tuning differs: Ours (Instance) / CIFAR100/ResNet18 tuned (label_lr); Baseline / CIFAR100/ResNet18 at"
    assert f"{tuning} its config's values" in found.notes
    assert "rows differ in recipe: optim.epochs 120 vs 30" in render_markdown(ledger)


def test_what_a_seed_redraws_is_read_from_the_configs(tmp_path):
    noisy = {**CONFIG, "noise": {"kind": "uniform", "fraction": 0.4, "seed": 0}, "split": {"full_train": True,
             "seed": 0}}  # fmt: skip
    values = {("Baseline", "CIFAR100/ResNet18"): BASE, ("Ours (Instance)", "CIFAR100/ResNet18"): BASE}
    ledger = ledger_of(tmp_path, values, tables=(1,), configs={k: noisy for k in values})
    text = ledger.seeds[1].text()
    assert "a seed redraws initialisation, batch order and augmentation" in text
    assert "meta split and folds (split.seed=0)" in text and "noise pattern (noise.seed=0)" in text
    assert "MNIST-1D data set" not in text  # digits: no generator


SWEEP = """\
table: 1
metric: final_test_acc
seeds: [0, 1, 2]
common: [data=digits, model=smallcnn, split=full, optim.epochs=1]
columns:
  Digits/SmallCNN: []
rows:
  Baseline: [method=baseline]
  Ours (Instance): [method=label_smoothing]
"""


def test_a_table_not_run_into_this_root_is_one_line_per_claim(tmp_path):
    write_run(tmp_path, "another-tables-run", 0.5)
    claims = load_claims(tables=[1])
    ledger = build_ledger(collect_runs(tmp_path), {1: FakeSpec()}, claims, output_root=tmp_path)
    planned = sum(len(seeds) for seeds in VALUES.values())
    assert not ledger.lines and len(ledger.missing) == len(claims)
    assert {m.reason for m in ledger.missing} == {
        f"none of the {planned} runs Table 1's sweep reports is in these runs (not run here yet?)"
    }
