"""Simulated annotators (noise=annotators) and the learned-labels-vs-annotators analysis: metrics by hand, the
recorder's summary and file, CIFAR-10N's label types from three votes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from presets import QUIET
from repro.config import load_config
from repro.data.simulated_annotators import confusion_matrices, given_from_votes, simulate_votes
from repro.labels import annotator_agreement as agreement
from repro.train import train


def test_label_types_follow_cifar10n_from_three_votes():
    votes = torch.tensor([[1, 1, 2], [3, 4, 4], [5, 6, 7], [0, 0, 0], [2, 8, 9]])
    clean = torch.tensor([1, 4, 5, 0, 8])
    assert given_from_votes(votes, clean, "aggre").tolist() == [1, 4, 5, 0, 2]
    assert given_from_votes(votes, clean, "random3").tolist() == [2, 4, 7, 0, 9]
    assert given_from_votes(votes, clean, "worse").tolist() == [2, 3, 6, 0, 2]


def test_annotators_err_at_their_rates_on_two_look_alike_classes():
    m = confusion_matrices(10, (0.1, 0.2, 0.3), seed=0)
    assert torch.allclose(m.sum(2), torch.ones(3, 10, dtype=torch.float64))
    assert torch.allclose(m[:, 4, 4], torch.tensor([0.9, 0.8, 0.7], dtype=torch.float64))
    assert int((m[0, 4] > 0).sum()) == 3  # the class and its two look-alikes
    targets = torch.arange(10).repeat(2000)
    votes = simulate_votes(targets, 10, (0.1, 0.2, 0.3), seed=0)
    wrong = (votes != targets[:, None]).double().mean(0)
    assert torch.allclose(wrong, torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64), atol=0.01)


@pytest.mark.slow
def test_metrics_by_hand():
    votes = torch.tensor([[0, 0, 1], [2, 2, 2]])
    p = agreement.annotator_distribution(votes, 3)
    assert torch.allclose(p, torch.tensor([[2 / 3, 1 / 3, 0], [0, 0, 1]], dtype=torch.float64))
    one_hot = torch.tensor([[1.0, 0, 0], [0, 0, 1]])
    assert agreement.total_variation(p, one_hot).tolist() == pytest.approx([1 / 3, 0])
    q = (1 - agreement.KL_FLOOR) * one_hot.double() + agreement.KL_FLOOR / 3
    expected = 2 / 3 * math.log((2 / 3) / q[0, 0]) + 1 / 3 * math.log((1 / 3) / q[0, 1])
    assert agreement.kl_divergence(p, one_hot)[0].item() == pytest.approx(expected)
    assert agreement.auroc(np.array([True, False, True, False]), np.array([0.9, 0.1, 0.8, 0.3])) == 1.0


ANNOTATED = [
    "data=digits",
    "data.subset=400",
    "data.test_subset=60",
    "model=tinycnn",
    "optim.epochs=2",
    *QUIET,
    "noise=annotators",
    "noise.type=worse",
    "split=noisy",
    "split.meta_fraction=0.1",
]


def _run(tmp_path, method):
    return train(load_config([*ANNOTATED, f"method={method}", f"output_root={tmp_path}"]))


@pytest.mark.slow
def test_runs_record_agreement_with_the_annotators(tmp_path):
    learned, one_hot = _run(tmp_path, "instance_labels"), _run(tmp_path, "baseline")
    for result in (learned, one_hot):
        s = result.summary
        assert s["annot_mislabelled"] == pytest.approx(s["realised_noise_rate"])
        assert 0 < s["annot_tv_given"] < 1 and 0 <= s["annot_auroc_loss"] <= 1
        with np.load(result.run_dir.path / agreement.FILE) as f:
            assert f["votes"].shape == (s["num_train"], 3)
            assert (f["given"] != f["clean"]).mean() == pytest.approx(s["annot_mislabelled"])
    assert "annot_tv_learned" in learned.summary and "annot_tv_learned" not in one_hot.summary
    assert -1 <= learned.summary["annot_entropy_spearman"] <= 1
    assert learned.summary["annot_tv_given"] == one_hot.summary["annot_tv_given"]  # same data, same noise


def test_cleanlab_baseline_is_recorded_when_installed(tmp_path):
    s = _run(tmp_path, "baseline").summary
    assert 0 <= s["annot_auroc_cleanlab"] <= 1 and "annot_cleanlab_missing" not in s
    assert 0 <= s["annot_cleanlab_recall"] <= 1  # find_label_issues' flagged set, a precision / recall point


def test_cleanlab_ranks_every_image_continuously_and_keeps_its_flagged_set():
    """The AUROC's score is cleanlab's label quality (normalized margin) for every image, not a rank among the
    flagged ones with a tie at 0 for the rest; find_label_issues' set stays beside it as one precision/recall point."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(5, 0.5), size=300)
    given = np.where(rng.random(300) < 0.7, probs.argmax(1), rng.integers(0, 5, 300))
    found = agreement.cleanlab_scores(given, probs)
    quality = get_label_quality_scores(given, probs, method="normalized_margin")
    assert np.allclose(found["score"], 1 - quality) and len(np.unique(found["score"])) > 290
    assert np.array_equal(found["flagged"], find_label_issues(labels=given, pred_probs=probs, n_jobs=1))
    flagged, wrong = np.array([True, True, False, False]), np.array([True, False, True, False])
    assert agreement.precision_recall(flagged, wrong) == (0.5, 0.5)
    assert np.isnan(agreement.precision_recall(np.zeros(4, bool), wrong)[0])


def test_without_cleanlab_the_baseline_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cleanlab.filter", None)  # import fails as if cleanlab were not installed
    given, probs = np.array([0, 1, 1, 0]), np.full((4, 2), 0.5)
    assert agreement.cleanlab_scores(given, probs) is None
    arrays = agreement.agreement_arrays(
        votes=torch.tensor([[0, 0, 1]] * 4),
        given=torch.tensor(given),
        clean=torch.tensor([0, 0, 1, 0]),
        probs=torch.tensor(probs),
        labels=None,
    )
    assert "cleanlab is not installed" in agreement.agreement_summary(arrays)["annot_cleanlab_missing"]


@pytest.mark.slow
def test_tables_and_figures_of_the_analysis(tmp_path):
    """The annotators table reads every run with several annotators per image; the two figures draw the cells of the
    annotators' sweep (a digits Table 15, as sweeps/demo/table15.yaml)."""
    from analysis.collect import collect_runs
    from analysis.figures.make import make_figures
    from analysis.tables.annotators import write_annotator_table
    from figure_sweeps import planned, train_planned, write_sweep

    common = [o for o in ANNOTATED if not o.startswith("noise.type=")]
    body = f"""
        common: [{", ".join(common)}]
        columns:
          Digits-sim/worse: [noise.type=worse]
        rows:
          One-hot: [method=baseline]
          Ours (Instance labels): [method=instance_labels]
    """
    runs = planned(write_sweep(tmp_path / "sweeps", 15, body), tmp_path)
    learned, one_hot = (rd.read_summary() for rd in train_planned(runs)[::-1])
    runs = collect_runs(tmp_path)
    md = write_annotator_table(runs, tmp_path / "tables", log=lambda _: None).read_text()
    assert "| Method | Measure | digits/worse (simulated) |" in md
    tv = learned["annot_tv_learned"]
    assert f"| instance_labels | TV(annotators, learned label) | {tv:.3f} (n=1) |" in md
    assert (
        f"| baseline | AUROC: the network's training loss on the given label | "
        f"{one_hot['annot_auroc_loss']:.3f} (n=1) |" in md
    )
    assert "| baseline | TV(annotators, learned label)" not in md  # one-hot runs learn no labels
    written = make_figures(
        tmp_path,
        out_dir=tmp_path / "figures",
        sweeps_dir=tmp_path / "sweeps",
        log=lambda _: None,
        only=["annotator_entropy", "annotator_roc"],
    )
    for name in ("figure_annotator_entropy", "figure_annotator_roc"):
        assert written[name] is not None and written[name].read_bytes().startswith(b"\x89PNG")


def test_figures_count_annotator_noise_as_label_noise():
    """Figure 2's clean instance-label runs must not take a run on annotators' labels (it has no noise.fraction)."""
    from analysis.figures.common import has_label_noise

    assert has_label_noise({"noise": {"kind": "annotators", "type": "aggre"}})
    assert has_label_noise({"noise": {"kind": "uniform", "fraction": 0.4}})
    assert not has_label_noise({"noise": {"kind": "none", "fraction": 0.0}})
    assert not has_label_noise({"noise": {"kind": "uniform", "fraction": 0.0}})
