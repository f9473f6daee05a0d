"""The hardware keys (repro/training/hardware.py): run id rules, bad values, determinism, bf16 autocast, and the CUDA
checks
(marked `gpu`: they skip, saying so, without CUDA)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from presets import QUIET
from repo_paths import REPO
from repro.cli import main
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.meta import label_meta_gradient
from repro.models import build_model
from repro.runs.checkpoint import load_checkpoint
from repro.runs.rundir import RunDir, run_id
from repro.train import Interrupted, build_experiment, train
from repro.training.hardware import (
    DeterministicAdaptiveAvgPool2d,
    Hardware,
    index_add_rows_,
    replace_nondeterministic_pools,
)
from testing_support.reference_meta import reference_label_meta_gradient

FAST = ["optim.epochs=2", "data.subset=300", "data.test_subset=150", *QUIET]


def _id(*overrides: str) -> str:
    return run_id(to_container(load_config(list(overrides))))


# ------------------------------------------------------------------------------------------------ run id rules


def test_device_and_channels_last_never_change_the_run_id():
    base = _id("method=instance_labels")
    for lever in ("device=cpu", "device=cuda", "channels_last=true", "channels_last=false"):
        assert _id("method=instance_labels", lever) == base, lever


def test_result_levers_change_the_run_id_only_away_from_their_default():
    base = _id("method=instance_labels")
    assert _id("method=instance_labels", "precision=fp32", "deterministic=false", "compile_jvp=false") == base
    changed = {
        _id("method=instance_labels", lever) for lever in ("precision=bf16", "deterministic=true", "compile_jvp=true")
    }
    assert len(changed) == 3 and base not in changed


def test_a_config_written_before_the_hardware_keys_keeps_its_id():
    config = to_container(load_config(["model=resnet18", "data=cifar100"]))
    old = {
        k: v
        for k, v in config.items()
        if k not in ("device", "precision", "channels_last", "compile_jvp", "deterministic")
    }
    assert run_id(old) == run_id(config)


@pytest.mark.parametrize("bad", ["precision=fp16", "device=tpu", "deterministic=maybe", "channels_last=2"])
def test_bad_hardware_values_are_refused_before_any_work(bad, capsys):
    with pytest.raises(UserError):
        load_config([bad])
    assert main(["train", bad, *QUIET]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where there is no CUDA")
def test_device_cuda_without_a_gpu_says_so(tmp_path):
    cfg = load_config([*FAST, f"output_root={tmp_path}", "device=cuda"])  # plans fine (e.g. on a login node)
    with pytest.raises(UserError, match="no CUDA GPU"):
        train(cfg)


def test_auto_resolves_to_what_this_machine_has():
    hw = Hardware.from_config({})
    assert hw.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert hw.channels_last  # on for both devices
    assert (hw.precision, hw.compile_jvp, hw.deterministic) == ("fp32", False, False)


def test_apply_sets_the_determinism_flags(restore_torch_flags, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    Hardware(torch.device("cpu"), deterministic=True).apply()
    assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
    assert not torch.backends.cudnn.benchmark
    import os

    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    Hardware(torch.device("cpu")).apply()
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.benchmark


# ------------------------------------------------------------------------------------ deterministic replacements


def test_index_add_rows_matches_index_add_with_duplicates(restore_torch_flags):
    gen = torch.Generator().manual_seed(0)
    target = torch.randn(20, 5, generator=gen)
    index = torch.tensor([3, 7, 3, 0, 19, 7, 3])
    source = torch.randn(7, 5, generator=gen)
    want = target.clone().index_add_(0, index, source)
    torch.use_deterministic_algorithms(True)
    assert torch.equal(index_add_rows_(target.clone(), index, source), want)
    # the CUDA replacement's operation, run here: duplicates add up to the same bits as index_add_ on the CPU
    assert torch.equal(target.clone().index_put_((index,), source, accumulate=True), want)


@pytest.mark.parametrize("name,size", [("alexnet", 32), ("resnet18", 32), ("vgg16", 32), ("smallcnn", 8)])
def test_deterministic_pooling_gives_the_same_numbers(name, size):
    channels = 1 if name == "smallcnn" else 3
    model = build_model(name, num_classes=10, in_channels=channels, image_size=size).eval()
    swapped = copy.deepcopy(model)
    replace_nondeterministic_pools(swapped)
    assert not any(isinstance(m, torch.nn.AdaptiveAvgPool2d) for m in swapped.modules())
    assert any(isinstance(m, DeterministicAdaptiveAvgPool2d) for m in swapped.modules())
    x = torch.randn(2, channels, size, size)
    with torch.no_grad():
        assert torch.equal(model(x), swapped(x))


def test_deterministic_pooling_on_uneven_sizes_falls_back_to_adaptive():
    x = torch.randn(2, 3, 5, 7)
    assert torch.equal(DeterministicAdaptiveAvgPool2d(2)(x), F.adaptive_avg_pool2d(x, 2))


@pytest.mark.slow
def test_deterministic_run_resumes_bit_identically_on_the_cpu(tmp_path, restore_torch_flags):
    _resume_equals_whole(tmp_path, "device=cpu", "deterministic=true")


# ------------------------------------------------------------------------------------------------ bf16 autocast


def _meta_problem(name: str, classes: int, batch: int, device: str = "cpu", dtype=torch.float32):
    torch.manual_seed(0)
    channels, size = (1, 8) if name == "smallcnn" else (3, 32)
    model = build_model(name, num_classes=classes, in_channels=channels, image_size=size).to(device, dtype)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, channels, size, size, generator=gen).to(device, dtype)
    x_meta = torch.randn(2 * batch, channels, size, size, generator=gen).to(device, dtype)
    y_meta = torch.randint(0, classes, (2 * batch,), generator=gen).to(device)
    p = torch.softmax(torch.randn(batch, classes, generator=gen), 1).to(device, dtype)
    return model, x, p, x_meta, y_meta


def _agreement(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    a, b = a.double().flatten(), b.double().flatten()
    return float((a - b).norm() / b.norm()), float(F.cosine_similarity(a, b, dim=0))


def test_bf16_meta_gradient_is_float32_and_agrees_with_fp32_on_the_cpu():
    model, x, p, x_meta, y_meta = _meta_problem("smallcnn", 10, 32)
    fp32 = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1)
    with Hardware(torch.device("cpu"), precision="bf16").autocast():
        bf16 = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1)
    assert bf16.dtype == torch.float32
    rel, cosine = _agreement(bf16, fp32)
    assert rel < 0.1 and cosine > 0.99, (rel, cosine)


@pytest.mark.slow
def test_bf16_run_trains_like_fp32_and_keeps_the_labels_float32(tmp_path):
    over = [*FAST, "optim.epochs=4", "method=instance_labels", "device=cpu"]
    fp32 = train(load_config([*over, f"output_root={tmp_path / 'a'}"]))
    bf16 = train(load_config([*over, f"output_root={tmp_path / 'b'}", "precision=bf16"]))
    logits = load_checkpoint(bf16.run_dir.checkpoint_file)["method"]["labels"]["logits"]
    assert logits.dtype == torch.float32 and bool(torch.isfinite(logits).all())
    assert bf16.summary["final_test_acc"] > 0.2  # 10 classes: chance is 0.1 (fp32 reaches about 0.32 here)
    assert abs(bf16.summary["final_test_acc"] - fp32.summary["final_test_acc"]) < 0.1


# ------------------------------------------------------------------------------------------------ helpers


def _resume_equals_whole(tmp_path: Path, *levers: str) -> None:
    over = [*FAST, "method=instance_labels", *levers]
    whole = train(load_config([*over, f"output_root={tmp_path / 'a'}"]))
    cfg = load_config([*over, f"output_root={tmp_path / 'b'}"])
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    resumed = train(cfg)
    assert RunDir.for_config(to_container(cfg)).run_id == whole.run_dir.run_id
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(resumed.run_dir.read_metrics()) == strip(whole.run_dir.read_metrics())
    a, b = load_checkpoint(whole.run_dir.checkpoint_file), load_checkpoint(resumed.run_dir.checkpoint_file)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert torch.equal(a["method"]["labels"]["logits"], b["method"]["labels"]["logits"])


# ------------------------------------------------------------------------------------------------ on CUDA


@pytest.mark.gpu
def test_cuda_deterministic_resume_is_bit_identical(tmp_path, restore_torch_flags):
    _resume_equals_whole(tmp_path, "device=cuda", "deterministic=true")


@pytest.mark.gpu
def test_cuda_meta_gradient_matches_the_reference_in_float64():
    model, x, p, x_meta, y_meta = _meta_problem("resnet18", 10, 8, device="cuda", dtype=torch.float64)
    ours = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4)
    reference = reference_label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4)
    rel, _ = _agreement(ours, reference)
    assert rel < 1e-10, rel


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["resnet18", "wrn28_10"])
def test_cuda_bf16_meta_gradient_keeps_the_direction(name, restore_torch_flags):
    model, x, p, x_meta, y_meta = _meta_problem(name, 100, 32, device="cuda")
    exact = label_meta_gradient(model.double(), x.double(), p.double(), x_meta.double(), y_meta, lr=0.1)
    model.float()
    hw = Hardware(torch.device("cuda"), precision="bf16", channels_last=True)
    model = hw.prepare_model(model)
    with hw.autocast():
        bf16 = label_meta_gradient(model, hw.prepare_batch(x), p, hw.prepare_batch(x_meta), y_meta, lr=0.1)
    rel, cosine = _agreement(bf16, exact)
    # at initialisation on the CPU (batch 8): rel. error 0.19 / 0.15, cosine 0.982 / 0.989 (docs/gpu.md, "bf16
    # precision")
    assert bf16.dtype == torch.float32 and rel < 0.3 and cosine > 0.97, (rel, cosine)


@pytest.mark.gpu
def test_cuda_levers_train_the_same_run_to_the_same_statistics(tmp_path, restore_torch_flags):
    # Long enough to learn: FAST is 8 SGD steps, after which the test accuracy is still near chance (0.11, 0.25 or
    # 0.36 on the CPU for seeds 0-2) and may jump by more than 0.1 with the last bits. This run: 0.97-0.99 on the CPU
    # (fp32, and bf16 + channels_last instance labels).
    run = ["optim.epochs=4", "data.subset=1000", "data.test_subset=300", *QUIET, "device=cuda"]
    plain = train(load_config([*run, f"output_root={tmp_path / 'a'}", "channels_last=false"]))
    fast = train(load_config([*run, f"output_root={tmp_path / 'b'}", "channels_last=true"]))
    assert plain.run_dir.run_id == fast.run_dir.run_id
    assert plain.summary["final_test_acc"] > 0.8
    assert abs(plain.summary["final_test_acc"] - fast.summary["final_test_acc"]) < 0.05
    bf16 = train(
        load_config(
            [*run, f"output_root={tmp_path / 'c'}", "precision=bf16", "compile_jvp=true", "method=instance_labels"]
        )
    )
    assert bf16.run_dir.run_id != plain.run_dir.run_id and bf16.summary["final_test_acc"] > 0.8


@pytest.mark.gpu
def test_cuda_deterministic_after_cublas_started_without_its_setting_is_refused_or_works():
    # Where torch needs CUBLAS_WORKSPACE_CONFIG for deterministic products (it reads it at the process's first one), a
    # deterministic run after a product made without it (several runs in one process) is refused before any work,
    # naming the fix. Where this torch and cuBLAS need no such setting (torch 2.11 with CUDA 13 raises nothing), the run
    # is accepted and its products work. Either way torch's own error never surfaces at the run's first step.
    code = textwrap.dedent("""
        import torch
        from repro.errors import UserError
        from repro.training.hardware import Hardware
        a = torch.ones(2, 2, device="cuda")
        a @ a
        try:
            Hardware(torch.device("cuda"), deterministic=True).apply()
        except UserError as exc:
            print("refused:", exc)
            raise SystemExit(0)
        b = torch.randn(16, 16, device="cuda")
        (b @ b).sum().item()
        print("accepted")
    """)
    env = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    if "refused:" in done.stdout:
        assert "CUBLAS_WORKSPACE_CONFIG=:4096:8" in done.stdout, done.stdout
    else:
        assert done.stdout.strip() == "accepted", done.stdout


@pytest.mark.gpu
def test_cuda_checkpoint_of_a_machine_with_more_gpus_resumes_on_this_one(tmp_path, restore_torch_flags):
    cfg = load_config([*FAST, f"output_root={tmp_path}", "device=cuda"])
    exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    state = exp.state_dict()
    saved = state["rng"]["cuda"]
    assert isinstance(saved, torch.Tensor)  # the run's own GPU only
    torch.cuda.manual_seed(123)
    # the form written before: every visible GPU's state (torch.cuda.set_rng_state_all failed on a machine with fewer)
    every_gpu = [saved] * (torch.cuda.device_count() + 1)
    exp.load_state_dict({**state, "rng": {**state["rng"], "cuda": every_gpu}})
    assert torch.equal(torch.cuda.get_rng_state(exp.hardware.device), saved)


@pytest.mark.slow  # torch.compile takes ~25 s on one CPU thread
def test_compiled_jvp_under_bf16_autocast_with_channels_last_runs_and_agrees():
    # This combination failed inside torch.compile ("expected m1 and m2 to have the same dtype"); the compiled JVP
    # now runs in float32 under bf16 autocast (repro/meta/lookahead.py, log_prob_jvp).
    model, x, p, x_meta, y_meta = _meta_problem("smallcnn", 10, 16)
    hw = Hardware(torch.device("cpu"), precision="bf16", channels_last=True, compile_jvp=True)
    model = hw.prepare_model(model)
    x, x_meta = hw.prepare_batch(x), hw.prepare_batch(x_meta)
    with hw.autocast():
        eager = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1)
        compiled = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, compile_jvp=True)
    rel, cosine = _agreement(compiled, eager)
    assert compiled.dtype == torch.float32 and rel < 0.1 and cosine > 0.99, (rel, cosine)
