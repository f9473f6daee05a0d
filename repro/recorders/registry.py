"""The recorders every run has, whatever its method, registered in one place: each is a `Recorder`
(repro/training/protocols.py) whose `for_run(exp)` says whether the run gets one. A run's recorders are its method's
own (and its label kind's), then these; the training loop names none of them, and `repro sweep --dry-run` asks each
for the images it evaluates (`eval_images`).

Registered: the memorisation pass of every noisy run (memorisation.py, which also keeps what the best-validation T
estimate needs: transition_estimate.py), the learned labels' agreement with the annotators
(repro/labels/annotator_agreement.py) and a cross-validation fold run's held-out probabilities
(repro/labels/out_of_sample.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from repro.labels.annotator_agreement import AnnotatorAgreementRecorder
from repro.labels.out_of_sample import HeldOutProbs
from repro.recorders.memorisation import MemorisationRecorder
from repro.training.protocols import Recorder, When

__all__ = ["RUN_RECORDERS", "EvalImages", "eval_images", "register_recorder", "run_recorders"]

RUN_RECORDERS: list[type] = [MemorisationRecorder, AnnotatorAgreementRecorder, HeldOutProbs]


def register_recorder(recorder: type) -> type:
    """Give every run a recorder of this class where its `for_run(exp)` returns one (usable as a decorator)."""
    if recorder not in RUN_RECORDERS:
        RUN_RECORDERS.append(recorder)
    return recorder


def run_recorders(parts: Any, method: Any) -> list[Recorder]:
    """A run's recorders, built on its parts (repro/training/experiment.py: `RunParts`): its method's own, then every
    registered one that applies to the run."""
    return [*method.recorders(parts), *(r for cls in RUN_RECORDERS for r in cls.for_run(parts))]


@dataclass(frozen=True)
class EvalImages:
    """Images the registered recorders evaluate: each epoch, and once at the last epoch."""

    every_epoch: int
    last_epoch: int


def eval_images(config: Mapping[str, Any], n_train: int, n_meta: int, n_test: int) -> EvalImages:
    """What the registered recorders evaluate on a run of `config` with these train / meta / test sizes."""
    per = {when: 0 for when in When}
    for cls in RUN_RECORDERS:
        per[cls.when] += cls.eval_images(config, n_train, n_meta, n_test)
    return EvalImages(every_epoch=per[When.EVERY_EPOCH], last_epoch=per[When.LAST_EPOCH])
