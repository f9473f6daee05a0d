"""The training core end to end on the embedded digits data: run directory, resume, bad input, W&B."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import repro.train as train_module
from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs import io as repro_io
from repro.runs.rundir import RunDir, run_id
from repro.train import Interrupted, train

FAST = ["optim.epochs=3", *QUIET]


def cfg_for(tmp_path: Path, *extra: str):
    return load_config([*FAST, f"output_root={tmp_path}", *extra])


@pytest.mark.slow
def test_train_writes_a_complete_run_directory(tmp_path):
    result = train(cfg_for(tmp_path))
    rd = result.run_dir
    assert rd.path.parent == tmp_path / "runs"
    assert rd.read_config()["model"]["name"] == "smallcnn"
    rows = rd.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for key in ("lr", "train_loss", "train_acc", "val_acc", "test_acc", "seconds"):
        assert key in rows[0]
    summary = rd.read_summary()
    assert summary["final_test_acc"] == rows[-1]["test_acc"]
    best = max(rows, key=lambda r: (r["val_acc"], r["epoch"]))
    assert summary["best_val_epoch"] == best["epoch"]
    assert summary["test_acc_at_best_val"] == best["test_acc"]
    assert rd.read_status()["state"] == "done"
    assert rd.checkpoint_file.exists()
    # digits is learnable: three epochs of a small CNN are far above chance (0.1)
    assert summary["final_test_acc"] > 0.5


@pytest.mark.slow
def test_rerunning_a_done_run_is_a_noop(tmp_path, capsys):
    cfg = cfg_for(tmp_path)
    first = train(cfg)
    before = {p.name: p.stat().st_mtime_ns for p in first.run_dir.path.iterdir() if p.is_file()}
    assert main(["train", *FAST, f"output_root={tmp_path}"]) == 0
    assert "already done" in capsys.readouterr().out
    after = {p.name: p.stat().st_mtime_ns for p in first.run_dir.path.iterdir() if p.is_file()}
    assert before == after


@pytest.mark.slow
def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    # On the CPU kernels are deterministic by default; on CUDA this needs deterministic=true
    # (tests/training/test_hardware.py)
    whole = train(cfg_for(tmp_path / "a", "device=cpu"))
    cfg = cfg_for(tmp_path / "b", "device=cpu")
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    rd = RunDir.for_config(to_container(cfg))
    assert rd.read_status()["state"] == "interrupted"
    assert not rd.is_done()
    assert len(rd.read_metrics()) == 1
    resumed = train(cfg)
    assert resumed.summary == {**whole.summary, "seconds": resumed.summary["seconds"]}
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(resumed.run_dir.read_metrics()) == strip(whole.run_dir.read_metrics())
    a = torch.load(whole.run_dir.checkpoint_file, weights_only=True)["model"]
    b = torch.load(resumed.run_dir.checkpoint_file, weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_a_sigterm_whose_exception_was_swallowed_still_stops_the_run_at_its_epoch_end(tmp_path, monkeypatch):
    """Python drops an exception raised by a signal handler while a finaliser runs; the run must stop anyway, at the
    end of that epoch, and its status must name the epoch of its last checkpoint (where it resumes)."""
    real = train_module.run_epoch

    def epoch_with_a_lost_sigterm(exp, epoch, progress):
        row = real(exp, epoch, progress)
        if epoch == 1:
            try:  # as if the handler ran inside a __del__: its exception never reaches the loop
                os.kill(os.getpid(), signal.SIGTERM)
            except Interrupted:
                pass
        return row

    monkeypatch.setattr(train_module, "run_epoch", epoch_with_a_lost_sigterm)
    cfg = cfg_for(tmp_path, "optim.epochs=5")
    with pytest.raises(Interrupted):
        train(cfg)
    rd = RunDir.for_config(to_container(cfg))
    status = rd.read_status()
    assert status["state"] == "interrupted" and status["epoch"] == 2, status
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was taken down with the run


@pytest.mark.slow
def test_a_sigterm_as_the_checkpoint_lands_leaves_the_status_at_that_checkpoints_epoch(tmp_path, monkeypatch):
    """A signal right after the checkpoint is renamed into place, before the run notes the epoch it committed, must
    not split the two: the status names the checkpoint's epoch, and the next run trains on from there."""
    real = train_module.save_checkpoint

    def save_then_sigterm(state, path):
        real(state, path)
        if state["epoch"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, before save_checkpoint returns

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_sigterm)
    cfg = cfg_for(tmp_path, "optim.epochs=3")
    with pytest.raises(Interrupted):
        train(cfg)
    rd = RunDir.for_config(to_container(cfg))
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 2
    status = rd.read_status()
    assert status["state"] == "interrupted" and status["epoch"] == 2, status
    monkeypatch.setattr(train_module, "save_checkpoint", real)
    assert [row["epoch"] for row in train(cfg).run_dir.read_metrics()] == [1, 2, 3]
    assert "resumed from checkpoint at epoch 2" in rd.log_file.read_text()


def test_run_id_depends_only_on_result_fields(tmp_path):
    base = to_container(cfg_for(tmp_path))
    same = to_container(load_config([*FAST, "output_root=/elsewhere", "tracker=wandb", "progress=plain"]))
    other = to_container(cfg_for(tmp_path, "optim.lr=0.01"))
    assert run_id(base) == run_id(same)
    assert run_id(base) != run_id(other)
    assert run_id(base).startswith("digits-smallcnn-baseline-")


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    repro_io.atomic_write_json(target, {"ok": 1})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(repro_io.os, "replace", crash)
    with pytest.raises(OSError):
        repro_io.atomic_write_json(target, {"ok": 2})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left behind


@pytest.mark.parametrize(
    "overrides, needle",
    [
        (["model=nosuchnet"], "Available options"),
        (["data=nosuchdata"], "Available options"),
        (["noise=uniform", "noise.fraction=1.0"], "noise.fraction"),
        (["noise=uniform", "noise.fraction=-0.1"], "noise.fraction"),
        (["split.meta_fraction=0"], "split.meta_fraction"),
        (["split.meta_fraction=1.5"], "split.meta_fraction"),
        (["optim.epochs=0"], "optim.epochs"),
        (["split.fold=7"], "split.fold"),
        (["nosuchkey=1"], "nosuchkey"),
    ],
)
def test_bad_config_is_a_clear_error_before_any_work(tmp_path, capsys, overrides, needle):
    code = main(["train", *overrides, f"output_root={tmp_path}", *QUIET])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_missing_cifar_directory_names_the_path_and_the_files(tmp_path, capsys):
    missing = tmp_path / "no-cifar-here"
    code = main(["train", "data=cifar10", "model=resnet18", f"data.root={missing}", f"output_root={tmp_path}", *QUIET])
    err = capsys.readouterr().err
    assert code == 2
    assert str(missing) in err and "cifar-10-batches-py" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_corrupted_checkpoint_is_reported_and_left_untouched(tmp_path, capsys):
    cfg = cfg_for(tmp_path)
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=1)
    rd = RunDir.for_config(to_container(cfg))
    rd.checkpoint_file.write_bytes(b"this is not a checkpoint")
    code = main(["train", *FAST, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be read" in err and str(rd.checkpoint_file) in err
    assert rd.checkpoint_file.read_bytes() == b"this is not a checkpoint"
    assert not rd.is_done()


@pytest.mark.slow
def test_nan_loss_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    import repro.methods.fixed_targets as train_module

    real = train_module.soft_cross_entropy
    calls = {"n": 0}
    steps_per_epoch = None

    def poisoned(logits, p, weight=None):
        calls["n"] += 1
        loss = real(logits, p, weight)
        return loss * float("nan") if calls["n"] > poisoned.after else loss

    cfg = cfg_for(tmp_path)
    from repro.train import build_experiment

    steps_per_epoch = len(build_experiment(cfg, RunDir.for_config(to_container(cfg))).batches.train)
    poisoned.after = steps_per_epoch + 2  # NaN in the middle of epoch 2
    monkeypatch.setattr(train_module, "soft_cross_entropy", poisoned)
    code = main(["train", *FAST, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "nan" in err.lower() and "Traceback" not in err
    rd = RunDir.for_config(to_container(cfg))
    assert rd.read_status()["state"] == "failed"
    assert not rd.is_done()
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 1


def _wandb_run_dir(run_dir: Path) -> Path:
    found = sorted((run_dir / "wandb").glob("offline-run-*"))
    assert found, f"no offline W&B run under {run_dir}"
    return found[-1]


@pytest.mark.slow
def test_wandb_offline_run_reads_back(tmp_path):
    result = train(load_config(["optim.epochs=2", "progress=none", "tracker=wandb", f"output_root={tmp_path}"]))
    wandb_dir = _wandb_run_dir(result.run_dir.path)
    out = subprocess.run(
        [str(Path(sys.executable).parent / "wandb"), "leet", "inspect", "--json", str(wandb_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip().startswith("{")]
    text = json.dumps(records)
    assert result.run_dir.run_id in text  # run name = run id
    assert '"seed"' in text  # the resolved config was logged
    last_test_acc = result.run_dir.read_metrics()[-1]["test_acc"]
    assert repr(last_test_acc)[:8] in text  # the per-epoch metrics were logged


@pytest.mark.slow
def test_wandb_failure_never_stops_training(tmp_path, monkeypatch):
    import wandb

    def broken_init(*args, **kwargs):
        raise RuntimeError("simulated W&B outage")

    monkeypatch.setattr(wandb, "init", broken_init)
    with pytest.warns(UserWarning, match="W&B could not start"):
        result = train(load_config(["optim.epochs=1", "progress=none", "tracker=wandb", f"output_root={tmp_path}"]))
    assert result.run_dir.is_done()


def test_secrets_are_never_sent_to_the_tracker():
    from repro.tracking.tracker import scrub_secrets

    clean = scrub_secrets({"tracker": {"api_key": "abc", "project": "p"}, "token": "t", "lr": 0.1})
    assert clean == {"tracker": {"api_key": "<redacted>", "project": "p"}, "token": "<redacted>", "lr": 0.1}


@pytest.mark.slow
def test_nan_in_learned_labels_fails_the_run_like_a_nan_loss(tmp_path, capsys, monkeypatch):
    import repro.labels as labels_module

    real = labels_module.ClassLabels.apply_meta_gradient
    calls = {"n": 0}

    def poisoned(self, idx, y, grad_p):
        calls["n"] += 1
        if calls["n"] > 20:  # past the first epoch of digits (16 steps)
            grad_p = grad_p * float("nan")
        return real(self, idx, y, grad_p)

    monkeypatch.setattr(labels_module.ClassLabels, "apply_meta_gradient", poisoned)
    overrides = [*FAST, f"output_root={tmp_path}", "method=class_labels"]
    code = main(["train", *overrides])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "label" in err.lower()
    rd = RunDir.for_config(to_container(load_config(overrides)))
    assert rd.read_status()["state"] == "failed"
    assert not rd.is_done()
    assert torch.load(rd.checkpoint_file, weights_only=True)["epoch"] == 1
