"""The learned-labels-vs-annotators table (`repro tables` writes it as annotators.md / .csv beside the tables).

Runs whose noise has several annotators per image (CIFAR-10N via noise=cifar_n, or noise=annotators, SIMULATED)
record, at their last epoch, how their labels and networks relate to the annotators (repro/labels/
annotator_agreement.py: summary fields `annot_*`). This table averages those fields over the seeds of each
(method, label set) and lays them out as measures x label sets:
- the given one-hot label against the annotators' empirical distribution (TV, KL), the same for every method;
- per method with learned labels: the learned label against the annotators (TV, KL), Spearman's rank correlation
  of its entropy with the annotators' disagreement, and the AUROC of two mislabel detectors built on it;
- per method: the AUROC of its own network's training-loss ranking (the one-hot row is the baseline's row); for a
  run with cross-validation fold runs (a sweep row with `out_of_sample: {folds: K}`), cleanlab's continuous
  label-quality score on out-of-sample probabilities, the way cleanlab is meant to be used (computed here, from the
  fold runs' held-out predictions: repro/labels/out_of_sample.py), with the precision and recall of the set its
  find_label_issues flags; and, as a labelled fallback, cleanlab on the network's own in-sample softmax, which a
  network that memorised the noisy labels makes useless.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from analysis.collect import DONE
from repro.runs.io import atomic_write_text

OUT_OF_SAMPLE = "annot_auroc_cleanlab_oos"  # computed here from the fold runs, not summary fields
OOS_PRECISION, OOS_RECALL = "annot_cleanlab_oos_precision", "annot_cleanlab_oos_recall"
# (summary field, what it measures); "given" rows are per label set, the others per method.
GIVEN_MEASURES = (
    ("annot_mislabelled", "share of mislabelled training images (given ≠ clean)"),
    ("annot_tv_given", "TV(annotators, given one-hot)"),
    ("annot_kl_given", "KL(annotators ‖ given one-hot)"),
)
METHOD_MEASURES = (
    ("annot_tv_learned", "TV(annotators, learned label)"),
    ("annot_kl_learned", "KL(annotators ‖ learned label)"),
    ("annot_entropy_spearman", "Spearman(learned-label entropy, annotator disagreement)"),
    ("annot_auroc_learned_top1", "AUROC: learned top-1 ≠ given"),
    ("annot_auroc_learned_given_prob", "AUROC: learned label's given-class probability (low)"),
    ("annot_auroc_loss", "AUROC: the network's training loss on the given label"),
    (OUT_OF_SAMPLE, "AUROC: cleanlab label quality (normalized margin), out-of-sample (K-fold) probabilities"),
    (OOS_PRECISION, "cleanlab find_label_issues, out-of-sample: precision of the flagged set"),
    (OOS_RECALL, "cleanlab find_label_issues, out-of-sample: recall of the flagged set"),
    ("annot_auroc_cleanlab", "AUROC: cleanlab on the network's own in-sample softmax (fallback, not its intended use)"),
)


def annotator_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Done runs that recorded agreement with annotators, with their label-set column; not cross-validation fold
    runs, whose held-out fold is scored for another run."""
    if runs.empty or "annot_tv_given" not in runs or "state" not in runs:
        return runs.iloc[0:0]
    done = runs[(runs["state"] == DONE) & runs["annot_tv_given"].notna()]
    if "split.folds" in done:  # cross-validation fold runs (out-of-sample probabilities, label folds) are helpers
        fold_run = (pd.to_numeric(done["split.folds"], errors="coerce") >= 2) & ~done["split.full_train"].astype(bool)
        done = done[~fold_run]
    done = done.copy()
    if done.empty:
        return done
    simulated = done["noise.kind"].astype(str).eq("annotators").map({True: " (simulated)", False: ""})
    done["label_set"] = done["data.name"].astype(str) + "/" + done["noise.type"].astype(str) + simulated
    return done


def with_out_of_sample_cleanlab(done: pd.DataFrame) -> pd.DataFrame:
    """`done` with OUT_OF_SAMPLE (and the folds it used) for runs without learned labels whose cross-validation fold
    runs are complete; NaN for the others."""
    from repro.labels.annotator_agreement import out_of_sample_cleanlab  # deferred: torch (cleanlab when called)

    done = done.copy()
    done[OUT_OF_SAMPLE], done[OOS_PRECISION], done[OOS_RECALL], done["oos_folds"] = (
        math.nan,
        math.nan,
        math.nan,
        math.nan,
    )
    fixed = done["annot_tv_learned"].isna() if "annot_tv_learned" in done else pd.Series(True, index=done.index)
    for i in done.index[fixed]:
        found = out_of_sample_cleanlab(str(done.at[i, "path"]))
        if found is not None:
            done.at[i, OUT_OF_SAMPLE], done.at[i, "oos_folds"] = found["auroc"], found["folds"]
            done.at[i, OOS_PRECISION], done.at[i, OOS_RECALL] = found["precision"], found["recall"]
    return done


def annotator_table(runs: pd.DataFrame) -> pd.DataFrame | None:
    """Tidy frame: measure, method ('' for the given labels' rows), label set, mean, std, n; None without runs."""
    done = annotator_runs(runs)
    if done.empty:  # before the out-of-sample scores, whose module loads torch and cleanlab
        return None
    done = with_out_of_sample_cleanlab(done)
    records: list[dict[str, Any]] = []
    for (label_set,), group in done.groupby(["label_set"], sort=True):
        for field, text in GIVEN_MEASURES:
            records.append(_cell(text, "", label_set, group, field))
        for method, runs_of_method in group.groupby("method.name", sort=True):
            for field, text in METHOD_MEASURES:
                if field in runs_of_method and runs_of_method[field].notna().any():
                    records.append(_cell(text, str(method), label_set, runs_of_method, field))
    return pd.DataFrame.from_records(records)


def _cell(measure: str, method: str, label_set: str, runs: pd.DataFrame, field: str) -> dict[str, Any]:
    values = pd.to_numeric(runs[field], errors="coerce").dropna() if field in runs else pd.Series(dtype=float)
    return {
        "measure": measure,
        "method": method,
        "label_set": label_set,
        "field": field,
        "mean": float(values.mean()) if len(values) else math.nan,
        "std": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "n": int(len(values)),
    }


def render_markdown(table: pd.DataFrame, source: str) -> str:
    label_sets = list(dict.fromkeys(table["label_set"]))
    lines = [
        "# Learned labels against the annotators",
        "",
        "Runs whose label noise comes from several annotators per image (CIFAR-10N, or SIMULATED annotators "
        "where the label set says so), their training part at the last epoch; mean ± sample std over seeds "
        f"(n). Runs: {source}. Mislabelled: given label ≠ clean label. KL uses each label mixed with 0.1% "
        "uniform; AUROC 0.5 is chance. cleanlab's AUROCs rank every image by its continuous label-quality score "
        "(normalized margin); its find_label_issues set is one precision / recall point. cleanlab needs "
        "out-of-sample probabilities (its documentation): the "
        "out-of-sample row has them from K cross-validation fold runs, each network scoring the fold it never "
        "trained on; the in-sample row feeds it the network's own softmax on its training images, which a "
        "network that memorised the noisy labels makes useless.",
        "",
        "| Method | Measure | " + " | ".join(label_sets) + " |",
        "|---|---|" + "---|" * len(label_sets),
    ]
    keys = list(dict.fromkeys(zip(table["method"], table["measure"])))
    for method, measure in keys:
        cells = []
        for label_set in label_sets:
            hit = table[(table["method"] == method) & (table["measure"] == measure) & (table["label_set"] == label_set)]
            cells.append(_text(hit.iloc[0]) if len(hit) else "")
        lines.append(f"| {method or 'given labels'} | {measure} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _text(rec: pd.Series) -> str:
    if math.isnan(rec["mean"]):
        return f"n/a (n={rec['n']})"
    return f"{rec['mean']:.3f}" + ("" if math.isnan(rec["std"]) else f" ± {rec['std']:.3f}") + f" (n={rec['n']})"


def write_annotator_table(
    runs: pd.DataFrame, out_dir: str | Path, *, source: str = "", log: Callable[[str], Any] = print
) -> Path | None:
    """annotators.md and .csv in `out_dir` when some run recorded agreement with annotators; None otherwise."""
    table = annotator_table(runs)
    if table is None:
        return None
    md = atomic_write_text(Path(out_dir) / "annotators.md", render_markdown(table, source or "run frame"))
    atomic_write_text(Path(out_dir) / "annotators.csv", table.to_csv(index=False, lineterminator="\n"))
    log(f"Learned labels vs annotators: {int(annotator_runs(runs).shape[0])} runs -> {md} (+ .csv)")
    return md
