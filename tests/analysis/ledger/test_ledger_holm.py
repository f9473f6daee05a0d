"""Holm's correction in the ledger counts one test per distinct test: claims that ask the same question (judge,
margin, side) of the very same runs share one, and claims that ask different questions of the same runs (a gain and
a "comparable" claim over the same two cells) are two, each with its own p. A user's claims file, a real sweep file
and fabricated runs through `repro ledger`. No training."""

from __future__ import annotations

import pandas as pd
from test_ledger import CONFIG, SWEEP, write_run

from analysis.sweeps import planned_runs
from repro.cli import main
from repro.sweep.sweep_file import load_sweep

HEADER = "table,name,kind,terms,paper_terms,where,margin,margin_reason,measure,says\n"
GAIN = "1,Ours (Instance) > Baseline,gain,+Ours (Instance); -Baseline,,,,,,a gain\n"
GAIN_AGAIN = "1,Instance labels help,gain,+Ours (Instance); -Baseline,,,,,,the same gain in other words\n"
COMPARABLE = "1,Ours (Instance) ≈ Baseline,comparable,+Ours (Instance); -Baseline,,,0.5,a user's margin,,level\n"


def ledger_claims(tmp_path, claims: str) -> tuple[pd.DataFrame, str]:
    """`repro ledger` over Table 1's two digits cells 2 points apart (gains 2.1, 1.9, 2.0), with `claims`."""
    sweeps, root, out = tmp_path / "sweeps", tmp_path / "outputs", tmp_path / "ledger"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(SWEEP)
    values = {"Baseline": [0.900, 0.920, 0.910], "Ours (Instance)": [0.921, 0.939, 0.930]}
    for planned in planned_runs(load_sweep(sweeps / "table1.yaml"), output_root=root):
        # each run records its seed, as a trained run does: the two cells' runs of one seed share its draws (paired)
        write_run(root, planned.run_id, values[planned.row][planned.seed], {**CONFIG, "seed": planned.seed})
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + claims, encoding="utf-8")
    args = ["ledger", "--runs", str(root), "--sweeps-dir", str(sweeps), "--claims", str(path), "--out", str(out)]
    assert main(args) == 0
    frame = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    return frame.set_index("claim"), (out / "ledger.md").read_text(encoding="utf-8")


def test_a_comparable_claim_over_a_gains_runs_is_its_own_test(tmp_path):
    claims, markdown = ledger_claims(tmp_path, GAIN + COMPARABLE)
    gain, comparable = claims.loc["Ours (Instance) > Baseline"], claims.loc["Ours (Instance) ≈ Baseline"]
    assert gain["verdict"] == "larger than the paper's" and float(gain["claim_p"]) < 0.0125
    assert comparable["verdict"] == "not equivalent: beyond the margin" and float(comparable["claim_p"]) > 0.99
    # two tests: the comparable claim keeps its own p (the larger of two is Holm's unchanged), and does not hold
    assert float(comparable["claim_p_holm"]) == float(comparable["claim_p"])
    assert float(gain["claim_p_holm"]) == round(2 * float(gain["claim_p"]), 6)
    assert str(comparable["claim_holds_after_holm"]) == "False" and str(gain["claim_holds_after_holm"]) == "True"
    assert "over 2 distinct tests" in markdown and "1 of 2 tested claims hold" in markdown


def test_two_claims_making_the_same_test_of_the_same_runs_are_one(tmp_path):
    claims, markdown = ledger_claims(tmp_path, GAIN + GAIN_AGAIN)
    assert claims.loc["Instance labels help", "claim_p_holm"] == claims.loc["Ours (Instance) > Baseline", "claim_p"]
    assert "over 1 distinct tests" in markdown and "2 of 2 tested claims hold" in markdown
