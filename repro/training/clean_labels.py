"""How many clean labels a run used beyond its (noisy) training labels, and what for.

Meta-learning methods (learned labels, L2RW, Meta-Weight-Net) learn on a clean meta set the other rows of a noisy
table never train on; the others may still score a held-out clean part (validation, selection of an epoch or a
tuned value). A reader comparing rows needs to see which is which, so every run records it (summary fields
`clean_labels_used`, `clean_labels_use`) and `repro tables` prints it beside every noisy table's rows.

The facts come from the objects that own them: the split (the run's held-out clean part, `exp.data.meta_idx`), the
method (`Method.needs_meta_set`: it learns on that part; `Method.clean_label_uses` for anything else it reads,
such as a transition matrix computed from clean labels) and the noise model (repro.data.noise).
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.data.noise import transition_reads_clean_labels

META_SET = "meta set"  # learned on: the method takes gradients through these labels
VALIDATION = "validation only"  # scored only: accuracy, best epoch, tuned values picked on it
TRANSITION = "transition matrix"  # counted into a known noise transition matrix
ESTIMATOR_SELECTION = (
    "estimator's epoch"  # the epoch of the network that estimates T, picked on clean validation labels
)
NONE = "none"


@dataclass(frozen=True)
class CleanLabelUse:
    """`count` clean labels used for `purpose` (one of the constants above)."""

    purpose: str
    count: int


def held_out_use(meta_count: int, *, learns_on_it: bool) -> list[CleanLabelUse]:
    """The split's held-out clean part: a meta set when the method learns on it, else validation only."""
    if meta_count <= 0:
        return []
    return [CleanLabelUse(META_SET if learns_on_it else VALIDATION, int(meta_count))]


def known_transition_use(exp) -> list[CleanLabelUse]:
    """A run's known noise transition matrix, when it is counted from the training part's clean labels (a file's
    human noise, simulated annotators); a synthetic noise model's T comes from its parameters, no labels."""
    if not transition_reads_clean_labels(exp.cfg.noise):
        return []
    return [CleanLabelUse(TRANSITION, int(exp.data.train_idx.numel()))]


def summary_fields(uses: list[CleanLabelUse]) -> dict[str, object]:
    """The run's summary fields: the total count and the purposes, '; '-joined ('none' when nothing)."""
    return {
        "clean_labels_used": sum(u.count for u in uses),
        "clean_labels_use": "; ".join(u.purpose for u in uses) or NONE,
    }
