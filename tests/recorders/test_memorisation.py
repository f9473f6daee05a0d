"""Memorisation of label noise, measured for every method on noisy training data (repro/recorders/memorisation.py): the
five
keys on a hand-computed case, per epoch in metrics.jsonl of a noisy run (none on clean data), the cap, run ids
unchanged by it, and their W&B names."""

from __future__ import annotations

import json

import pytest
import torch

import presets
from repro.cli import main
from repro.config import load_config, to_container
from repro.recorders.memorisation import MEMORISATION_KEYS, evaluated_rows, memorisation_stats
from repro.runs.rundir import run_id
from repro.tracking.wandb_page import topic_key

NOISY = [*presets.NOISY, "optim.epochs=2"]


def test_the_five_keys_on_a_hand_computed_case():
    # 4 samples, 3 classes. Samples 0, 1 noisy (given 1 / 2, true 0 / 0); samples 2, 3 clean (label 2 / 1).
    logits = torch.tensor(
        [
            [0.0, 3.0, 0.0],  # predicts 1 = given: memorised
            [4.0, 0.0, 0.0],  # predicts 0 = true: recovered
            [0.0, 0.0, 0.0],  # ties -> argmax 0: clean miss
            [0.0, 2.0, 0.0],
        ]
    )  # predicts 1: clean hit
    given, true = torch.tensor([1, 2, 2, 1]), torch.tensor([0, 0, 2, 1])
    stats = memorisation_stats(logits, given, true)
    assert set(stats) == set(MEMORISATION_KEYS)
    assert stats["memorised_noisy"] == 0.5 and stats["recovered_noisy"] == 0.5 and stats["clean_train_acc"] == 0.5
    p = torch.softmax(logits, dim=1).amax(dim=1)
    assert stats["confidence"] == pytest.approx(float(p.mean()))
    assert stats["logit_norm"] == pytest.approx((3.0 + 4.0 + 0.0 + 2.0) / 4)


def test_cap_picks_a_fixed_subset():
    idx = torch.arange(100, 200)
    assert torch.equal(evaluated_rows(idx, None, 0), idx)
    sub = evaluated_rows(idx, 10, 0)
    assert len(sub) == 10 and torch.equal(sub, evaluated_rows(idx, 10, 0)) and set(sub.tolist()) <= set(idx.tolist())
    assert not torch.equal(sub, evaluated_rows(idx, 10, 1))


def _rows(root) -> list[dict]:
    (run,) = list((root / "runs").iterdir())
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["baseline", "label_smoothing"])
def test_a_noisy_run_records_memorisation_every_epoch(method, trained_runs):
    rows = trained_runs(method).read_metrics()  # a two-epoch run on noisy digits
    assert len(rows) == 2
    for row in rows:
        for key in ("memorised_noisy", "recovered_noisy", "clean_train_acc", "confidence"):
            assert 0.0 <= row[key] <= 1.0, (key, row[key])
        assert row["logit_norm"] > 0 and row["memorised_noisy"] + row["recovered_noisy"] <= 1.0
        assert row["confidence"] >= 0.1  # the max of 10 probabilities


@pytest.mark.slow
def test_clean_runs_and_a_zero_cap_record_none(tmp_path):
    clean = [o for o in NOISY if not o.startswith("noise")]
    assert main(["train", *clean, "method=baseline", f"output_root={tmp_path / 'a'}"]) == 0
    assert main(["train", *NOISY, "method=baseline", "memorisation_samples=0", f"output_root={tmp_path / 'b'}"]) == 0
    for root in (tmp_path / "a", tmp_path / "b"):
        assert not set(MEMORISATION_KEYS) & set(_rows(root)[0])


def test_the_cap_never_changes_the_run_id():
    base = to_container(load_config(NOISY))
    assert base["memorisation_samples"] is None
    assert run_id(to_container(load_config([*NOISY, "memorisation_samples=50"]))) == run_id(base)


def test_the_keys_have_their_own_w_and_b_section():
    assert {topic_key(k) for k in MEMORISATION_KEYS} == {f"memorisation/{k}" for k in MEMORISATION_KEYS}


def test_a_negative_cap_is_refused(tmp_path, capsys):
    assert main(["train", *NOISY, "memorisation_samples=-1", f"output_root={tmp_path}"]) == 2
    assert "memorisation_samples" in capsys.readouterr().err
