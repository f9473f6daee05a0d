"""Learned labels against the annotators' own disagreement (CIFAR-10N's three annotators, or simulated ones).

The paper says learned labels "capture semantic relationship between classes". With several annotators per image
that claim can be checked against people (or simulated people): where annotators disagree, does the learned label
spread its mass, and over their classes? And do learned labels find the truly mislabelled images (given != clean)?

At a run's last epoch, for its training part (`annotators.npz` in the run directory; summary fields `annot_*`):
- TV and KL(p_annotators || q) between the annotators' empirical distribution p and the given one-hot label, and
  (a run with learned labels) the learned label q. KL uses q mixed with KL_FLOOR of uniform, for one-hot and
  learned labels alike (a one-hot label has zeros where annotators may have voted);
- Spearman's rank correlation between the learned label's entropy and the annotators' disagreement (the entropy of
  their votes);
- AUROC of detecting mislabelled images by: the learned label's top class differing from the given label; the
  learned label's given-class probability (low = suspicious); this run's network's training loss on the given label
  (the one-hot run's baseline ranking); cleanlab's continuous label-quality score (`LABEL_QUALITY`) on this
  network's own softmax (in-sample: a fallback only, since cleanlab needs out-of-sample probabilities and a network
  that memorised the noise ranks every given label as right), with find_label_issues' flagged set as a precision /
  recall point beside it (the optional `cleanlab` dependency: NaN and `annot_cleanlab_missing` without it).

cleanlab as it is meant to be used, on out-of-sample probabilities from the run's K cross-validation fold runs
(repro/labels/out_of_sample.py), is computed when the analysis reads the runs (`out_of_sample_cleanlab`): the fold
runs finish independently of the run, which never waits for them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import Tensor

from repro.data.noise import noise_model
from repro.labels.out_of_sample import fold_count, out_of_sample_probs
from repro.runs.io import atomic_output
from repro.training.evaluation import softmax_outputs
from repro.training.protocols import Recorder, When

KL_FLOOR = 1e-3
FILE = "annotators.npz"


def annotator_distribution(votes: Tensor, num_classes: int) -> Tensor:
    """(N, C) share of the annotators that gave each class."""
    counts = torch.zeros(votes.shape[0], num_classes, dtype=torch.float64)
    counts.scatter_add_(1, votes.long(), torch.ones(votes.shape, dtype=torch.float64))
    return counts / votes.shape[1]


def total_variation(p: Tensor, q: Tensor) -> Tensor:
    return 0.5 * (p.double() - q.double()).abs().sum(dim=1)


def kl_divergence(p: Tensor, q: Tensor) -> Tensor:
    """KL(p || q') per row, q' = (1 - KL_FLOOR) q + KL_FLOOR / C; 0 log 0 = 0."""
    p, q = p.double(), q.double()
    q = (1 - KL_FLOOR) * q + KL_FLOOR / q.shape[1]
    terms = torch.where(p > 0, p * (p.clamp(min=1e-300).log() - q.log()), torch.zeros_like(p))
    return terms.sum(dim=1)


def entropy(p: Tensor) -> Tensor:
    p = p.double()
    return -torch.where(p > 0, p * p.clamp(min=1e-300).log(), torch.zeros_like(p)).sum(dim=1)


def auroc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of `score` for the boolean `positive`; NaN when only one class is present."""
    from sklearn.metrics import roc_auc_score  # deferred: scikit-learn is heavy, needed by this analysis only

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return math.nan
    return float(roc_auc_score(positive, score))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr  # deferred: scipy is heavy, needed by this analysis only

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).statistic)


# cleanlab's label-quality score behind the AUROCs: the normalized margin, P[given] - max over the other classes
# (rescaled by cleanlab to [0, 1]). Its documentation: it "works better for identifying class conditional label
# errors, i.e. examples for which another label in C is appropriate but the given label is not", which is what
# annotators' mistakes are; self-confidence (P[given]) is the one it recommends for images of no class or several.
LABEL_QUALITY = "normalized_margin"


def cleanlab_scores(given: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray] | None:
    """cleanlab on (given labels, predicted probabilities): {"score": 1 - its label quality (`LABEL_QUALITY`,
    cleanlab.rank.get_label_quality_scores), a continuous suspicion for every sample (high: likely mislabelled),
    "flagged": the samples cleanlab.filter.find_label_issues flags (a yes/no set: one precision / recall point)};
    None when cleanlab is not installed (an optional dependency)."""
    try:  # deferred: cleanlab is heavy and optional (an extra of pyproject.toml)
        from cleanlab.filter import find_label_issues  # deferred: as above
        from cleanlab.rank import get_label_quality_scores  # deferred: as above
    except ImportError:
        return None
    quality = get_label_quality_scores(given, probs, method=LABEL_QUALITY)
    # n_jobs=1: cleanlab's default forks a multiprocessing pool, which deadlocked inside a sweep's forked worker
    # (torch's threads hold locks across the fork); one process is quick at these sizes.
    flagged = find_label_issues(labels=given, pred_probs=probs, n_jobs=1)
    return {"score": 1.0 - np.asarray(quality, dtype=np.float64), "flagged": np.asarray(flagged, dtype=bool)}


def precision_recall(flagged: np.ndarray, mislabelled: np.ndarray) -> tuple[float, float]:
    """(share of the flagged samples that are mislabelled, share of the mislabelled samples flagged); NaN where the
    denominator is empty."""
    hits = float((flagged & mislabelled).sum())
    return (
        hits / flagged.sum() if flagged.any() else math.nan,
        hits / mislabelled.sum() if mislabelled.any() else math.nan,
    )


def agreement_arrays(
    *, votes: Tensor, given: Tensor, clean: Tensor, probs: Tensor, labels: Tensor | None
) -> dict[str, np.ndarray]:
    """Per training image: what the figures draw and the summary averages (module docstring)."""
    num_classes = probs.shape[1]
    p = annotator_distribution(votes, num_classes)
    one_hot = torch.nn.functional.one_hot(given.long(), num_classes).double()
    out = {
        "votes": votes.numpy(),
        "given": given.numpy(),
        "clean": clean.numpy(),
        "annot_entropy": entropy(p).numpy(),
        "tv_given": total_variation(p, one_hot).numpy(),
        "kl_given": kl_divergence(p, one_hot).numpy(),
        "loss": (-probs.double().gather(1, given.long()[:, None]).squeeze(1).clamp(min=1e-12).log()).numpy(),
    }
    found = cleanlab_scores(given.numpy(), probs.double().numpy())
    if found is not None:
        out["cleanlab"], out["cleanlab_flagged"] = found["score"], found["flagged"]
    if labels is not None:
        q = labels.double()
        out.update(
            tv_learned=total_variation(p, q).numpy(),
            kl_learned=kl_divergence(p, q).numpy(),
            learned_entropy=entropy(q).numpy(),
            learned_given_prob=q.gather(1, given.long()[:, None]).squeeze(1).numpy(),
            learned_top1_differs=(q.argmax(1) != given).numpy(),
        )
    return out


def agreement_summary(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The run's summary fields from `agreement_arrays`."""
    mislabelled = arrays["given"] != arrays["clean"]
    out: dict[str, Any] = {
        "annot_mislabelled": float(mislabelled.mean()),
        "annot_tv_given": float(arrays["tv_given"].mean()),
        "annot_kl_given": float(arrays["kl_given"].mean()),
        "annot_auroc_loss": auroc(mislabelled, arrays["loss"]),
    }
    if "cleanlab" in arrays:
        out["annot_auroc_cleanlab"] = auroc(mislabelled, arrays["cleanlab"])
        if "cleanlab_flagged" in arrays:  # runs recorded before the flagged set was kept have the score only
            precision, recall = precision_recall(arrays["cleanlab_flagged"], mislabelled)
            out.update(annot_cleanlab_precision=precision, annot_cleanlab_recall=recall)
    else:
        out["annot_cleanlab_missing"] = "cleanlab is not installed (pip install 'repro[cleanlab]')"
    if "tv_learned" in arrays:
        out.update(
            annot_tv_learned=float(arrays["tv_learned"].mean()),
            annot_kl_learned=float(arrays["kl_learned"].mean()),
            annot_entropy_spearman=spearman(arrays["learned_entropy"], arrays["annot_entropy"]),
            annot_auroc_learned_top1=auroc(mislabelled, arrays["learned_top1_differs"].astype(float)),
            annot_auroc_learned_given_prob=auroc(mislabelled, -arrays["learned_given_prob"]),
        )
    return out


def out_of_sample_cleanlab(run_path: str | Path) -> dict[str, Any] | None:
    """cleanlab on out-of-sample probabilities for a finished run with annotators and complete cross-validation fold
    runs: {"folds": K, "score": (N,) cleanlab's suspicion per training row of `annotators.npz`, "auroc": of it
    against the mislabelled rows, "flagged": find_label_issues' set, "precision" / "recall": of that set}; None
    without fold runs or without cleanlab."""
    path = Path(run_path)
    if not (path / FILE).exists():
        return None
    folds = fold_count(path)
    if folds is None:
        return None
    with np.load(path / FILE) as f:
        index, given, clean = f["index"], f["given"], f["clean"]
    probs, _ = out_of_sample_probs(path, index, folds)
    found = cleanlab_scores(given, probs.astype(np.float64))
    if found is None:
        return None
    mislabelled = given != clean
    precision, recall = precision_recall(found["flagged"], mislabelled)
    return {
        "folds": folds,
        "auroc": auroc(mislabelled, found["score"]),
        "precision": precision,
        "recall": recall,
        **found,
    }


class AnnotatorAgreementRecorder(Recorder):
    """At the last epoch: `annotators.npz` (atomic) and the summary fields; a resumed run reads them back."""

    records = f"{FILE} (the network's and the learned labels' agreement with the annotators); annot_* in the summary"
    when = When.LAST_EPOCH

    @classmethod
    def for_run(cls, exp: Any) -> list[Recorder]:
        """On a run whose noise model has several annotators per image."""
        votes = getattr(exp.data, "annotator_votes", None)
        return [cls(exp)] if votes is not None and exp.data.train_idx.numel() else []

    @classmethod
    def eval_images(cls, config: Mapping[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
        """The training images, once (the network's softmax over them)."""
        return n_train if noise_model(config["noise"]).annotator_votes(config) else 0

    def __init__(self, exp: Any) -> None:
        self.index = exp.data.train_idx.cpu()
        self.votes = exp.data.annotator_votes.cpu()[self.index]
        self.given = exp.data.train_targets.cpu()[self.index]
        self.clean = exp.data.train_true_targets.cpu()[self.index]
        self.path = exp.run_dir.path / FILE
        self._summary: dict[str, Any] = {}

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if epoch + 1 != exp.optim.epochs:
            return

        model = exp.method.eval_model(exp)
        probs = softmax_outputs(
            model, exp.data.train.images[self.index.to(exp.data.train.images.device)], **exp.eval_loader_kwargs
        ).cpu()
        labels = None
        if (
            exp.method.labels is not None and exp.method.labels.learnable
        ):  # fixed targets (one-hot, smoothed) are not learned
            with torch.no_grad():
                labels = (
                    exp.method.labels.soft_labels(
                        self.index.to(exp.hardware.device), self.given.to(exp.hardware.device)
                    )
                    .float()
                    .cpu()
                )
        arrays = agreement_arrays(votes=self.votes, given=self.given, clean=self.clean, probs=probs, labels=labels)
        with atomic_output(self.path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, index=self.index.numpy(), **arrays)
        self._summary = agreement_summary(arrays)

    def summary(self) -> dict[str, Any]:
        if not self._summary and self.path.exists():
            with np.load(self.path) as f:
                self._summary = agreement_summary({k: f[k] for k in f.files})
        return self._summary
