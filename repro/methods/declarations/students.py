"""The declarations of the students (repro/methods/distillation.py, transferred_labels.py): their options and what a
plan asks of them. The students: knowledge distillation from a teacher run, and labels transferred from a
label-source run."""

from __future__ import annotations

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN, TEACHER_FORWARD


@schema
class StudentOptions:
    """What every student declares: its temperature."""

    temperature: float = option(
        ge=0,
        why="T >= 0: 1 leaves the targets as they are, 0 is the arg-max as a one-hot target, larger values soften them",
        hint="the temperature search is a sweep's tuning stage: `tune: {grid: {method.temperature: {start: 0, "
        "stop: 10, step: 0.25}}}` (sweeps/table4.yaml)",
    )


class DistillationDeclaration(MethodDeclaration):
    trainer = "repro.methods.distillation:Distillation"
    step_cost = TEACHER_FORWARD  # the teacher runs a forward on every batch
    source_option = "teacher"

    @schema
    class Options(StudentOptions):
        teacher: str | None = option(
            why="the teacher run: its run id under <output_root>/runs/ or its directory (a sweep's `teacher:` sets it)"
        )
        hard_weight: float = option(
            default=0.0,
            ge=0,
            le=1,
            why="the weight of the given label's cross-entropy",
            hint="0: the teacher's targets only, as Mueller et al.; 1: no distillation",
        )


class TransferredLabelsDeclaration(MethodDeclaration):
    trainer = "repro.methods.transferred_labels:TransferredLabels"
    step_cost = PLAIN  # the source labels are looked up, not recomputed
    source_option = "source"

    @schema
    class Options(StudentOptions):
        source: str | None = option(
            why="the label-source run: a learned-labels row's final (replay) run or an instance-labels run (its id "
            "or directory; a sweep's `teacher:` sets it)"
        )
