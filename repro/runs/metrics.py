"""The metrics a run's summary.json holds that a sweep can report, and how they are shown.

Every one is an accuracy, a fraction in summary.json (repro/train.py `summarise`) that tables, claims, the gate and
the tuning report show in percentage points. Which metric is an accuracy is decided here alone, so that a table and
the claim judged on it never disagree on the unit.
"""

from __future__ import annotations

# Keys of summary.json a table can report.
METRICS = ("final_test_acc", "test_acc_at_best_val", "final_val_acc", "best_val_acc", "final_train_acc")


def is_accuracy(metric: object) -> bool:
    """Whether `metric` is an accuracy, shown in percent: a key of METRICS, or any name with "acc" in it (the
    validation metrics a tuning stage selects on, a stand-in's "accuracy")."""
    return str(metric) in METRICS or "acc" in str(metric)


def shown_scale(metric: object) -> float:
    """The factor from the metric as summary.json holds it to the unit it is shown and judged in (100: percent)."""
    return 100.0 if is_accuracy(metric) else 1.0
