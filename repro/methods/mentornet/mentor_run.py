"""`method=mentornet_mentor`: the run a MentorNet student depends on, as a distillation student depends on its
teacher. It trains a StudentNet on its noisy labels with the plain cross-entropy (the one-hot baseline's step),
dumps the training loss of a fixed share of its training samples at every epoch together with their noisy and
clean labels (the suite's synthetic noise knows the clean ones), and at its last epoch trains the two mentors of
google/mentornet `TRAINING.md`:

- DD (data-driven) on that dump (`data_generator.py --vstar_fn=data_driven`, then `train.py`): v* = 1 where the
  noisy label is clean;
- PD (pre-defined) on the enumerated `vstar_mentornet_pd` curriculum (`--vstar_fn=vstar_mentornet_pd`, then
  `train.py`), which depends on nothing of the run but its seed.

Both are stored in the run directory with their provenance (records.py). Settings and sources:
docs/methods/mentornet.md and repro/conf/method/mentornet_mentor.yaml.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from repro.errors import UserError
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.mentornet import MentorRunDeclaration
from repro.methods.mentornet import records
from repro.methods.mentornet.curricula import TRAIN_SHARE, Dump, dd_data, pd_data
from repro.methods.mentornet.trainer import MentorRecipe, train_best_mentor
from repro.methods.mentornet.weighting import epoch_percentage
from repro.training.clean_labels import MENTOR_TARGETS, CleanLabelUse, held_out_use
from repro.training.protocols import Recorder, When

INIT_STRIDE = 10_007  # a mentor's k-th initialisation is seeded k strides past its first (the run's seed + offset)
DUMP_SEED_OFFSET = 7_919  # the dump's samples are drawn from their own generator, seeded from the run's seed


def dump_samples(train_idx: Tensor, fraction: float, seed: int) -> Tensor:
    """The training samples whose losses are dumped: a seeded random `fraction` of them (at least one), sorted."""
    count = max(1, round(fraction * int(train_idx.numel())))
    generator = torch.Generator().manual_seed(seed + DUMP_SEED_OFFSET)
    return train_idx[torch.randperm(int(train_idx.numel()), generator=generator)[:count]].sort().values


def check_dump_size(rows: int, batch: int) -> None:
    """Refuse, before the StudentNet trains, a dump whose DD training rows (80% of it) fill no mentor batch."""
    train_rows = int(rows * TRAIN_SHARE)
    if train_rows < batch:
        raise UserError(
            f"The mentor run would dump at most {rows} rows (method.dump_fraction of the training samples, once per "
            f"epoch), {train_rows} of them to train the DD mentor on, fewer than one mini-batch of "
            f"method.mentor_batch_size={batch}. Raise method.dump_fraction, train more epochs or samples, or lower "
            "method.mentor_batch_size."
        )


class MentorRun(Method, declaration=MentorRunDeclaration):
    """The StudentNet's plain cross-entropy step plus the dump; the mentors are trained by `MentorTraining`."""

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        o = self.options
        self.samples = dump_samples(exp.data.train_idx, float(o.dump_fraction), int(exp.cfg.seed))
        count, device = int(self.samples.numel()), exp.hardware.device
        check_dump_size(count * exp.optim.epochs, int(o.mentor_batch_size))
        slot = torch.full((len(exp.data.train_targets),), count, dtype=torch.long)  # `count`: not dumped
        slot[self.samples] = torch.arange(count)
        self.slot = slot.to(device)
        # one column per dumped sample and a last one that the batch's other samples write to and nobody reads
        self.losses = torch.zeros(exp.optim.epochs, count + 1, device=device)
        self.epochs = torch.full((exp.optim.epochs, count + 1), -1.0, device=device)  # -1: not seen that epoch
        self.total_steps = exp.optim.total_steps  # the run's steps: the epoch percentage is the share of them done
        self.step = 0

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        per_sample = F.cross_entropy(logits.float(), y, reduction="none")
        loss = per_sample.mean()
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        slot = self.slot[idx]
        self.losses[exp.epoch, slot] = per_sample.detach()
        self.epochs[exp.epoch, slot] = float(epoch_percentage(self.step, self.total_steps))
        self.step += 1
        return StepOutput(loss.detach(), logits.detach())

    def dump(self, exp) -> tuple[Tensor, Dump]:
        """(each row's sample index, the dump's rows so far), epoch by epoch; a sample not seen in an epoch (the
        last of an iteration-based run) has no row for it."""
        epochs, losses = self.epochs[:, :-1].cpu(), self.losses[:, :-1].cpu()
        seen = epochs >= 0
        samples = self.samples[torch.arange(self.samples.numel()).expand_as(epochs)[seen]]
        given, clean = exp.data.train_targets.cpu(), exp.data.train_true_targets.cpu()
        return samples, Dump(epochs[seen].long(), given[samples].long(), clean[samples].long(), losses[seen])

    def clean_label_uses(self, exp) -> list:
        """The held-out part as for any run, and the dumped samples' clean labels: the DD mentor's targets."""
        dumped = [CleanLabelUse(MENTOR_TARGETS, int(self.samples.numel()))]
        held_out = int(exp.data.meta_idx.numel()) if exp.data.held_out_clean else 0
        return held_out_use(held_out, learns_on_it=False) + dumped

    def recorders(self, exp) -> list:
        return [MentorTraining(exp, self)]

    def state_dict(self) -> dict[str, Any]:
        return {"losses": self.losses.clone(), "epochs": self.epochs.clone(), "step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.losses.copy_(state["losses"])
        self.epochs.copy_(state["epochs"])
        self.step = int(state["step"])


class MentorTraining(Recorder):
    """At the run's last epoch: the dump written, the PD and DD mentors trained on the CPU from the run's seed and
    stored with mentor.json (records.py); their fit goes into the summary."""

    records = "mentor/dump.npy, mentor/pd.pt, mentor/dd.pt and mentor/mentor.json; the mentors' fit in the summary"
    when = When.LAST_EPOCH

    def __init__(self, exp, method: MentorRun) -> None:
        self.method, self.run_dir = method, exp.run_dir

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if epoch + 1 != exp.optim.epochs:
            return
        o, path, seed = self.method.options, self.run_dir.path, int(exp.cfg.seed)
        recipe = MentorRecipe(steps=int(o.mentor_steps), lr=float(o.mentor_lr), batch_size=int(o.mentor_batch_size))
        samples, dump = self.method.dump(exp)
        records.write_dump(path, samples, dump)
        dd_rows, threshold = dd_data(dump, torch.Generator().manual_seed(seed), percentile=float(o.dump_percentile))
        inits = [INIT_STRIDE * k for k in range(int(o.mentor_inits))]  # the first: the run's seed as it was
        dd, dd_fit = train_best_mentor(dd_rows, recipe, [seed + 1 + k for k in inits])
        pd_rows = pd_data(
            torch.Generator().manual_seed(seed + 2), gamma=float(o.pd_gamma), sample_size=int(o.pd_sample_size)
        )
        pd, pd_fit = train_best_mentor(pd_rows, recipe, [seed + 3 + k for k in inits])
        records.write_mentor(path, "dd", dd)
        records.write_mentor(path, "pd", pd)
        noisy = (dump.noisy != dump.clean).float()
        records.write_record(
            path,
            {
                "source": "google/mentornet code/training_mentornet (data_generator.py, train.py, models.py)",
                "run": self.run_dir.run_id,
                "data": str(exp.cfg.data.name),
                "noise": OmegaConf.to_container(exp.cfg.noise, resolve=True),
                "dd": {
                    "learned_from": "this run's dump (mentor/dump.npy): v* = [noisy label == clean label]",
                    "dump_samples": int(self.method.samples.numel()),
                    "dump_rows": len(dump),
                    "dump_noisy_share": float(noisy.mean()) if len(dump) else float("nan"),
                    "dump_percentile": float(o.dump_percentile),
                    "dump_percentile_value": threshold,
                    **dd_fit,
                },
                "pd": {
                    "learned_from": "vstar_mentornet_pd on the enumerated feature grid",
                    "gamma": float(o.pd_gamma),
                    "sample_size": int(o.pd_sample_size),
                    **pd_fit,
                },
            },
        )

    def summary(self) -> dict[str, Any]:
        """The mentors' fit from mentor.json (also right for a run resumed after its last epoch)."""
        file = records.record_file(self.run_dir.path)
        if not file.exists():
            return {}
        record = records.read_record(self.run_dir)
        dd, pd = record["dd"], record["pd"]
        return {
            "mentor_dump_rows": dd["dump_rows"],
            "mentor_dump_noisy_share": dd["dump_noisy_share"],
            "mentor_dd_test_loss": dd["test_loss"],
            "mentor_dd_test_mean_weight_clean": dd.get("test_mean_weight_target_1"),
            "mentor_dd_test_mean_weight_noisy": dd.get("test_mean_weight_target_0"),
            "mentor_pd_test_loss": pd["test_loss"],
            "mentor_pd_test_mean_abs_error": pd["test_mean_abs_error"],
        }
