"""`repro train ... noise=cifar_n` end to end on CIFAR and CIFAR-N files in their published formats
(testing_support/published_files.py), with and without data.subset: what the run records, and the files it
refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_cifar_n import _Planted

from presets import QUIET
from repro.cli import main
from repro.config import load_config, to_container
from repro.data import cifar_n
from repro.data.splits import make_split
from repro.runs.rundir import RunDir
from testing_support.published_files import write_cifar10, write_cifar10n, write_cifar100, write_cifar100n

pytestmark = pytest.mark.filterwarnings("ignore::repro.data.cifar_n.FileDiffersFromRelease")  # fabricated files


def _train_argv(root, out, path, kind="worse", data="cifar10", subset=None):
    return [
        "train",
        f"data={data}",
        f"data.root={root}",
        "noise=cifar_n",
        f"noise.file={path}",
        f"noise.type={kind}",
        "model=tinycnn",
        "optim.epochs=1",
        "split=noisy",
        "split.meta_fraction=0.1",
        *QUIET,
        f"output_root={out}",
        "data.batch_size=32",
        *([f"data.subset={subset}"] if subset else []),
    ]


def _summary(argv):
    return RunDir.for_config(to_container(load_config(argv[1:]))).read_summary()


def _kept_and_trained(labels, subset):
    """Global indices of the images a run keeps (data.subset) and, among them, the positions of its training part."""
    targets = torch.tensor(labels)
    keep = torch.arange(len(labels)) if subset is None else make_split(targets, meta_fraction=subset / len(labels),
                                                                       folds=1, fold=0, seed=0)[1]  # fmt: skip
    train_idx, _ = make_split(targets[keep], meta_fraction=0.1, folds=1, fold=0, seed=0)
    return keep.numpy(), train_idx.numpy()


@pytest.fixture
def fake_cifar10(tmp_path, monkeypatch):
    fake = write_cifar10(tmp_path / "cifar", per_batch=60, n_test=20)
    fake.patch_checksums(monkeypatch)
    return fake


@pytest.mark.parametrize("subset", [None, 150])
def test_repro_train_on_cifar10n_records_md5_type_and_realised_rate(tmp_path, fake_cifar10, subset):
    path = tmp_path / "CIFAR-10_human.pt"
    columns = write_cifar10n(path, fake_cifar10.train_labels)
    argv = _train_argv(fake_cifar10.root, tmp_path / "out", path, subset=subset)
    assert main(argv) == 0
    summary = _summary(argv)
    assert summary["noise_type"] == "worse" and summary["noise_file_md5"] == cifar_n.file_md5(path)
    assert summary["noise_file_published"] is False and summary["noise_file"] == "CIFAR-10_human.pt"
    keep, train_idx = _kept_and_trained(fake_cifar10.train_labels, subset)
    clean, worse = np.asarray(fake_cifar10.train_labels)[keep], columns["worse_label"][keep]
    assert summary["realised_noise_rate"] == pytest.approx(float(np.mean(worse[train_idx] != clean[train_idx])))
    with np.load(RunDir.for_config(to_container(load_config(argv[1:]))).path / "annotators.npz") as f:
        votes = np.stack([columns[f"random_label{k}"] for k in (1, 2, 3)], axis=1)[keep]
        assert (f["votes"] == votes[train_idx]).all()  # CIFAR-10N's three annotators, image by image


@pytest.mark.parametrize("subset", [None, 600])
def test_repro_train_on_cifar100n_as_published_with_its_coarse_lists(tmp_path, monkeypatch, subset):
    fake = write_cifar100(tmp_path / "cifar", n_train=1000, n_test=100)
    fake.patch_checksums(monkeypatch)
    path = tmp_path / "CIFAR-100_human.pt"
    columns = write_cifar100n(path, fake.train_labels)
    assert isinstance(columns["noisy_coarse_label"], list)
    argv = _train_argv(fake.root, tmp_path / "out", path, "noisy", data="cifar100", subset=subset)
    assert main(argv) == 0
    summary = _summary(argv)
    assert summary["noise_type"] == "noisy" and summary["noise_file_md5"] == cifar_n.file_md5(path)
    keep, train_idx = _kept_and_trained(fake.train_labels, subset)
    clean, noisy = np.asarray(fake.train_labels)[keep], columns["noisy_label"][keep]
    assert summary["realised_noise_rate"] == pytest.approx(float(np.mean(noisy[train_idx] != clean[train_idx])))
    assert summary["num_train"] == len(train_idx)


def test_data_subset_keeps_each_image_with_its_own_human_label(tmp_path, monkeypatch):
    fake = write_cifar100(tmp_path / "cifar", n_train=400, n_test=10)
    fake.patch_checksums(monkeypatch)
    path = tmp_path / "c100n.pt"
    columns = write_cifar100n(path, fake.train_labels)
    from repro.training.run_data import load_run_data

    cfg = load_config(
        [
            "data=cifar100",
            f"data.root={fake.root}",
            "data.subset=200",
            "noise=cifar_n",
            f"noise.file={path}",
            "noise.type=noisy",
            "split=full",
        ]
    )
    data = load_run_data(cfg)
    images = torch.from_numpy(fake.train_images).permute(0, 3, 1, 2)
    kept = [int(np.flatnonzero((images == img).flatten(1).all(1))[0]) for img in data.train.images[:20]]
    assert data.train_targets[:20].tolist() == columns["noisy_label"][kept].tolist()


@pytest.mark.parametrize(
    "method", [["method=loss_correction"], ["method=label_smearing", "method.smearing=backward"]], ids=["lc", "ls"]
)
def test_known_transition_on_human_noise_counts_the_clean_labels_it_reads(tmp_path, fake_cifar10, method):
    """A known T of human noise is the training part's empirical one, counted from its clean labels (with
    data.subset: from the kept images' own labels)."""
    path = tmp_path / "c10n.pt"
    write_cifar10n(path, fake_cifar10.train_labels)
    argv = [*_train_argv(fake_cifar10.root, tmp_path / "out", path, "aggre", subset=200), *method]
    assert main(argv) == 0
    summary = _summary(argv)
    assert summary["clean_labels_use"] == "validation only; transition matrix"
    assert summary["clean_labels_used"] == summary["num_meta"] + summary["num_train"]


def test_repro_train_refuses_a_misaligned_file_with_exit_2(tmp_path, fake_cifar10, capsys):
    path = tmp_path / "tfds_order.pt"
    write_cifar10n(path, list(reversed(fake_cifar10.train_labels)))
    assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path, subset=150)) == 2
    err = capsys.readouterr().err
    assert "does not fit your CIFAR training set" in err and "another image order" in err and "Traceback" not in err


def test_repro_train_refuses_the_cifar100n_file_for_cifar10_with_exit_2(tmp_path, fake_cifar10, capsys):
    path = tmp_path / "CIFAR-100_human.pt"
    write_cifar100n(path, [label * 10 for label in fake_cifar10.train_labels])  # CIFAR-100 labels, 300 of them
    assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path, "noisy")) == 2
    err = capsys.readouterr().err
    assert "it labels another data set; CIFAR-100N labels data=cifar100" in err and "Traceback" not in err


def test_repro_train_refuses_a_pickle_that_would_run_code_with_exit_2(tmp_path, fake_cifar10, capsys):
    marker = tmp_path / "executed"
    path = tmp_path / "CIFAR-10_human.pt"
    torch.save({"clean_label": np.asarray(fake_cifar10.train_labels), "worse_label": _Planted(marker)}, path)
    assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path)) == 2
    err = capsys.readouterr().err
    assert "holds something other than numpy arrays" in err and "Traceback" not in err
    assert not marker.exists() and not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # nothing written
