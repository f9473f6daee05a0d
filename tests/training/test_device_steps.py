"""What a GPU needs of a training step, checked on the CPU: every method's step runs on PyTorch's "meta" device.

A meta tensor has a shape but no data. Reading one on the host raises (`.item()`, `bool()`, `.tolist()`, `.cpu()`,
`torch.unique` or a boolean mask, whose output size depends on the data), and combining one with a CPU tensor raises
as combining a CUDA and a CPU tensor does. A step that runs there therefore makes no host sync and creates no tensor
on the wrong device on a GPU either. Blocking host-to-device copies (on CUDA, a blocking copy waits for every kernel
queued so far) are recorded by a TorchFunctionMode. The code's CPU-only checks (`device.type == "cpu"`) are skipped
on the meta device exactly as on a GPU.

Then bf16 autocast (on the CPU): the learned sample weights and temperatures stay float32.
"""

from __future__ import annotations

import contextlib
import traceback
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch.overrides import TorchFunctionMode

from presets import QUIET, TINY_MENTOR, noisy_split
from repro.config import load_config, to_container
from repro.data.loader import BatchLoader
from repro.methods import METHODS
from repro.runs import provenance
from repro.runs.rundir import RunDir
from repro.train import build_experiment, train
from repro.training.hardware import Hardware
from repro.training.steptotals import StepTotals

META = torch.device("meta")
RUN = ["optim.epochs=2", "data.subset=300", "data.test_subset=100", *QUIET]
SHORT = [*RUN, "device=cpu"]
NOISY = noisy_split()
MNIST1D_CNN = ["data=mnist1d", "model=cnn1d"]
STEPS = 3  # the first is a warm-up: one-time moves (e.g. a mask to the device) are allowed there
# Every registered method gets a case at its defaults (on noisy digits unless named here), so a new method is
# checked without an edit here; then the variants whose step takes another path.
SETTINGS = {
    "baseline": [],
    "label_smoothing": [],
    "confidence_penalty": [],
    "class_labels": [],
    "instance_labels": [],
    "distillation": ["split=full", "method.temperature=2"],  # + the teacher (fixture)
    "transferred_labels": ["split=full", "method.temperature=2"],  # + the source
    "mentornet": NOISY,  # + the mentor run
    "mentornet_mentor": [*NOISY, *TINY_MENTOR],  # its mentors train at its last epoch: a few steps here
}
STEPLESS = {"replay"}  # replay's step is FixedTargets' (baseline) on stored labels
VARIANTS = {
    "instance_labels_entropy": ["method=instance_labels", "method.curriculum=entropy", *NOISY],
    "instance_labels_entropy_both": [
        "method=instance_labels",
        "method.curriculum=entropy",
        "method.curriculum_weight=entropy",
        "method.curriculum_placement=both",
        *NOISY,
    ],
    "coteaching_setting_a": ["method=coteaching", "optim=setting_a", *NOISY],  # the lr moves every step
    "mwnet_adam": ["method=mwnet", "method.meta_optimizer=adam", *NOISY],
    "data_parameters": [
        "method=data_parameters",
        "method.learn_class=true",
        "method.wd_class=1e-3",
        "method.wd_instance=1e-3",
        *NOISY,
    ],
    "loss_correction_backward": ["method=loss_correction", "method.correction=backward", *NOISY],
    "label_smearing_backward": ["method=label_smearing", "method.smearing=backward", *NOISY],
    # MNIST-1D's float32 signals and its 1-D networks: a plain, a label look-ahead, a sample-weight look-ahead and a
    # two-network step
    "mnist1d_cnn1d_baseline": ["method=baseline", *MNIST1D_CNN],
    "mnist1d_cnn1d_instance_labels": ["method=instance_labels", *MNIST1D_CNN, *NOISY],
    "mnist1d_cnn1d_mwnet": ["method=mwnet", *MNIST1D_CNN, *NOISY],
    "mnist1d_cnn1d_coteaching": ["method=coteaching", *MNIST1D_CNN, *NOISY],
    "mnist1d_mlp_class_labels": ["method=class_labels", "data=mnist1d", "model=mlp"],
    # MentorNet's other curriculum: burn-in, its fixed epoch feature and example dropout on the device
    "mentornet_pd": ["method=mentornet", "method.curriculum=pd", *NOISY],
}
CASES = {
    **{name: [f"method={name}", *SETTINGS.get(name, NOISY)] for name in METHODS if name not in STEPLESS},
    **VARIANTS,
}


class MetaHardware(Hardware):
    """A run's hardware on the meta device, keeping the data set's images there too (as on a GPU they are kept on
    the device when they fit), so the loaders' indexing and augmentation run there."""

    def place_images(self, images: torch.Tensor) -> torch.Tensor:
        return images.to(self.device)


class BlockingCopies(TorchFunctionMode):
    """Records each blocking copy from the host to the meta device (where in repro/ it was made): `.to`, `.cuda`,
    `.copy_` of a CPU tensor, and `torch.tensor` / `torch.as_tensor` of host data onto the device."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if not isinstance(out, torch.Tensor) or out.device != META:
            return out
        if func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.copy_):
            source = args[1] if func is torch.Tensor.copy_ else args[0]
            blocking = not (kwargs.get("non_blocking") or (func is torch.Tensor.copy_ and len(args) > 2 and args[2]))
            from_host = isinstance(source, torch.Tensor) and source.device.type == "cpu" and blocking
        else:
            from_host = func in (torch.tensor, torch.as_tensor) and not (
                isinstance(args[0], torch.Tensor) and args[0].device == META
            )
        if from_host:
            frames = [f for f in traceback.extract_stack() if "/repro/" in f.filename]
            self.found.append(
                f"{frames[-1].filename}:{frames[-1].lineno} {frames[-1].line}" if frames else "(outside repro/)"
            )
        return out


@pytest.fixture
def on_meta(monkeypatch):
    """Runs built in this test get MetaHardware; autocast (which knows no meta device) is a no-op there."""
    real_from_config = Hardware.from_config.__func__
    real_autocast, real_is_enabled = torch.autocast, torch.is_autocast_enabled

    def from_config(cls, cfg, *, require_device=True):
        hw = real_from_config(Hardware, cfg, require_device=require_device)
        return MetaHardware(
            META, precision=hw.precision, channels_last=True, compile_jvp=hw.compile_jvp, deterministic=hw.deterministic
        )

    def autocast(device_type, *args, **kwargs):
        return contextlib.nullcontext() if device_type == "meta" else real_autocast(device_type, *args, **kwargs)

    def is_autocast_enabled(*args):
        return False if args and args[0] == "meta" else real_is_enabled(*args)

    monkeypatch.setattr(Hardware, "from_config", classmethod(from_config))
    monkeypatch.setattr(torch, "autocast", autocast)
    monkeypatch.setattr(torch, "is_autocast_enabled", is_autocast_enabled)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """Finished runs the students learn from (trained on the CPU): a teacher, an instance-label run and a mentor run."""
    root = tmp_path_factory.mktemp("sources")
    teacher = train(load_config([*SHORT, "method=baseline", "split=full", f"output_root={root}"]))
    labels = train(load_config([*SHORT, "method=instance_labels", f"output_root={root}"]))
    mentor = train(load_config([*SHORT, "method=mentornet_mentor", *TINY_MENTOR, *NOISY, f"output_root={root}"]))
    return root, {
        "distillation": [f"method.teacher={teacher.run_dir.run_id}"],
        "transferred_labels": [f"method.source={labels.run_dir.run_id}"],
        "mentornet": [f"method.mentor={mentor.run_dir.run_id}"],
        "mentornet_pd": [f"method.mentor={mentor.run_dir.run_id}"],
    }


def test_the_harness_sees_a_blocking_copy_and_a_host_read():
    with BlockingCopies() as copies:
        moved = torch.zeros(3).to(META)
        torch.zeros(3).to(META, non_blocking=True)
        torch.tensor([0.5, 0.25], device=META)
        torch.zeros(3, device=META)
    assert len(copies.found) == 2
    with pytest.raises(RuntimeError):
        bool(moved.sum() > 0)
    with pytest.raises(RuntimeError):
        torch.zeros(3) + moved


@pytest.mark.parametrize("name", list(CASES))
def test_a_training_step_makes_no_host_sync_no_blocking_copy_and_stays_on_the_device(name, on_meta, sources, tmp_path):
    root, source_overrides = sources
    output_root = root if name in source_overrides else tmp_path
    cfg = load_config([*SHORT, *CASES[name], *source_overrides.get(name, []), f"output_root={output_root}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    assert isinstance(exp.hardware, MetaHardware) and next(exp.model.parameters()).device == META
    assert exp.data.train.images.device == META
    exp.set_epoch(0)
    hw = exp.hardware
    totals = StepTotals(hw.device, read_every=10**9)
    batches = iter(exp.batches.train)
    for step in range(STEPS):
        with BlockingCopies() as copies:
            # the training loop's per-step lines (repro/train.py, run_epoch)
            x, y, idx = next(batches)
            x, y, idx = hw.prepare_batch(x), y.to(hw.device, non_blocking=True), idx.to(hw.device, non_blocking=True)
            with hw.autocast():
                out = exp.method.train_step(exp, x, y, idx)
            exp.optim.schedule.after_step()
            totals.add(out.loss, out.logits, y)
        assert out.loss.device == META and out.logits.device == META
        if step:
            assert copies.found == [], copies.found


@pytest.mark.gpu
@pytest.mark.parametrize("levers", [["deterministic=true"], ["precision=bf16"]], ids=["deterministic", "bf16"])
@pytest.mark.parametrize("name", list(CASES))
def test_cuda_every_method_trains_an_epoch(name, levers, sources, tmp_path, restore_torch_flags):
    """The real thing on a GPU: every kernel a method's step uses has a deterministic CUDA implementation (or the
    run would raise), and its bf16 autocast path runs."""
    root, source_overrides = sources
    output_root = root if name in source_overrides else tmp_path
    result = train(
        load_config(
            [
                *RUN,
                "optim.epochs=1",
                "device=cuda",
                *levers,
                *CASES[name],
                *source_overrides.get(name, []),
                f"output_root={output_root}",
            ]
        )
    )
    assert result.summary["epochs"] == 1 and 0.0 <= result.summary["final_test_acc"] <= 1.0
    assert provenance.read(result.run_dir.path)["device"] == "cuda"


def test_the_augmenting_loader_makes_no_blocking_copy_with_its_images_on_the_device():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8, generator=gen)
    loader = BatchLoader(
        images.to(META),
        torch.arange(20) % 4,
        torch.arange(20),
        batch_size=8,
        shuffle=True,
        augment=True,
        mean=(0.5,) * 3,
        std=(0.25,) * 3,
        generator=gen,
    )
    with BlockingCopies() as copies:
        batches = list(loader)
    assert copies.found == []
    assert [tuple(x.shape) for x, _, _ in batches] == [(8, 3, 8, 8), (8, 3, 8, 8), (4, 3, 8, 8)]
    assert all(x.device == META and y.device.type == "cpu" for x, y, _ in batches)


def test_an_evaluation_copies_its_normalisation_constants_once_not_per_batch():
    from repro.models import build_model
    from repro.training.evaluation import predict

    model = build_model("smallcnn", num_classes=4, in_channels=3, image_size=8).to(META)
    images = torch.zeros(20, 3, 8, 8, dtype=torch.uint8, device=META)
    with BlockingCopies() as copies:
        predicted = predict(model, images, batch_size=8, mean=(0.5,) * 3, std=(0.25,) * 3, device=META)
    assert predicted.shape == (20,) and predicted.device == META
    assert len(copies.found) == 2, copies.found  # mean and std, once for the 3 batches


# ------------------------------------------------------------------------------------------------ bf16 autocast


def _bf16():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def test_meta_weight_net_weights_stay_float32_under_bf16_autocast(tmp_path, monkeypatch):
    cfg = load_config([*SHORT, "method=mwnet", *NOISY, f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    seen = []
    monkeypatch.setattr(exp.method.stats, "add", lambda idx, w: seen.append(w))
    x, y, idx = next(iter(exp.batches.train))
    with _bf16():
        exp.method.train_step(exp, x, y, idx)
    assert seen[0].dtype == torch.float32
    assert all(q.grad is None or q.grad.dtype == torch.float32 for q in exp.method.vnet.parameters())


def test_l2rw_weights_enter_the_model_step_unrounded_under_bf16_autocast(tmp_path, monkeypatch):
    import repro.methods.l2rw as l2rw

    cfg = load_config([*SHORT, "method=l2rw", *NOISY, f"output_root={tmp_path}"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    seen: dict = {}
    real_step = l2rw.l2rw_step

    def l2rw_step(*args, **kwargs):
        seen["logits"], seen["w"] = real_step(*args, **kwargs)
        return seen["logits"], seen["w"]

    monkeypatch.setattr(l2rw, "l2rw_step", l2rw_step)
    monkeypatch.setattr(l2rw, "optimizer_step", lambda optimizer, loss, **kw: seen.setdefault("loss", loss))
    x, y, idx = next(iter(exp.batches.train))
    with _bf16():
        exp.method.train_step(exp, x, y, idx)
    w, logits = seen["w"], seen["logits"]
    assert w.dtype == torch.float32 and logits.dtype == torch.bfloat16 and bool((w > 0).any())
    want = (w * F.cross_entropy(logits.float(), y, reduction="none")).sum()
    torch.testing.assert_close(seen["loss"], want, rtol=1e-6, atol=0)


def test_the_cases_name_registered_methods():
    """CASES follows the registry; a setting or variant left behind by a renamed or removed method fails here."""
    named = {OmegaConf.from_dotlist([o for o in ov if o.startswith("method=")]).method for ov in VARIANTS.values()}
    assert (set(SETTINGS) | STEPLESS | named) <= set(METHODS)
