"""Online Label Smoothing (repro/methods/online_label_smoothing.py) against its authors' update rule, restated here
as their CIFAR script's per-sample loop (zhangchbin/OnlineLabelSmoothing, train_cifar_all_methods.py): the loss of
each step, the statistics of the correct predictions, the soft labels after the epoch, and a resume."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from presets import CLEAN
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from repro.train import build_experiment
from resume_check import assert_resume_equals_uninterrupted

RUN = ["method=online_label_smoothing", *CLEAN, "device=cpu"]


class TheirLoop:
    """Their `update_loss_lams`, `soft_cross_entropy` and end-of-epoch update, sample by sample."""

    def __init__(self, classes: int, start: float) -> None:
        self.classes = classes
        self.loss_lams = torch.full((classes, classes), start, dtype=torch.float64)

    def start_epoch(self) -> None:
        self.cur_lams = torch.zeros(self.classes, self.classes, dtype=torch.float64)
        self.cur_cnt = torch.zeros(self.classes, dtype=torch.float64)

    def step_loss(self, output: torch.Tensor, target: torch.Tensor) -> float:
        output = output.double()
        logits = torch.softmax(output, dim=1)
        for k in range(output.shape[0]):
            if target[k] != torch.argsort(logits[k], descending=True)[0]:
                continue
            self.cur_lams[target[k]] += logits[k]
            self.cur_cnt[target[k]] += 1
        target_prob = torch.stack([self.loss_lams[t] for t in target])
        soft = torch.sum(-F.log_softmax(output, dim=1) * target_prob) / output.shape[0]
        return float(0.5 * F.cross_entropy(output, target) + 0.5 * soft)

    def end_epoch(self) -> None:
        for cls in range(self.classes):
            if self.cur_cnt[cls] < 0.5:
                self.loss_lams[cls] = 1.0 / self.classes
            else:
                self.loss_lams[cls] = self.cur_lams[cls] / self.cur_cnt[cls]


@pytest.mark.parametrize("init", ["zeros", "uniform"])
def test_two_epochs_follow_the_authors_update_rule(tmp_path, init):
    torch.manual_seed(0)
    cfg = load_config([*RUN, f"method.init={init}", f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    classes = exp.data.num_classes
    theirs = TheirLoop(classes, 0.0 if init == "zeros" else 1.0 / classes)
    rows = []
    for epoch in range(2):
        exp.set_epoch(epoch)
        exp.method.set_epoch(exp, epoch)
        theirs.start_epoch()
        for x, y, idx in exp.batches.train:
            out = exp.method.train_step(exp, x, y, idx)  # out.logits: the step's forward, before its update
            assert float(out.loss) == pytest.approx(theirs.step_loss(out.logits, y), rel=1e-5, abs=1e-6)
        rows.append(exp.method.end_epoch(exp))
        theirs.end_epoch()
        assert torch.allclose(exp.method.soft.double(), theirs.loss_lams, atol=1e-6)
    # the first epoch learnt something, and what it learnt is a distribution per class
    assert torch.allclose(exp.method.soft.sum(1), torch.ones(classes), atol=1e-5)
    assert rows[-1]["ols_target_prob_mean"] > 1.0 / classes


def test_a_class_never_predicted_right_gets_the_uniform_label(tmp_path):
    cfg = load_config([*RUN, f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    method = exp.method
    method.set_epoch(exp, 0)
    method.sums[3] = torch.arange(10.0)  # class 3 gathered statistics; every other class none
    method.counts[3] = 2
    row = method.end_epoch(exp)
    assert torch.allclose(method.soft[3], torch.arange(10.0) / 2)
    assert torch.allclose(method.soft[torch.arange(10) != 3], torch.full((9, 10), 0.1))
    assert row["ols_classes_without_correct"] == 9


def test_a_stopped_run_resumes_to_the_same_soft_labels(tmp_path):
    _, tensors = assert_resume_equals_uninterrupted([*RUN, "optim.epochs=3"], tmp_path)
    assert tensors["/method/soft"].shape == (10, 10)  # the soft labels are part of the checkpoint


def test_its_options_are_checked(tmp_path):
    from repro.errors import UserError

    with pytest.raises(UserError, match="hard_weight"):
        load_config([*RUN, "method.hard_weight=1.5"])
    with pytest.raises(UserError, match="init"):
        load_config([*RUN, "method.init=ones"])
