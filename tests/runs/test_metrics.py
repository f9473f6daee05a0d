"""Which reportable metric is an accuracy, and its unit, is decided in one place (repro/runs/metrics.py): a table and
the claims judged on it read the same factor."""

from __future__ import annotations

from repo_paths import REPO
from repro.runs.metrics import METRICS, is_accuracy, shown_scale


def test_every_reportable_metric_is_an_accuracy_shown_in_percent():
    assert all(is_accuracy(m) and shown_scale(m) == 100.0 for m in METRICS)
    assert not is_accuracy("final_test_loss") and shown_scale("final_test_loss") == 1.0


def test_no_module_decides_the_unit_by_itself():
    """The rule once: a copy elsewhere (`"acc" in metric`) could drift from it."""
    copies = [
        str(path.relative_to(REPO))
        for folder in ("repro", "analysis", "benchmarks")
        for path in (REPO / folder).rglob("*.py")
        if path != REPO / "repro" / "runs" / "metrics.py" and '"acc" in ' in path.read_text()
    ]
    assert copies == []
