"""noise=cifar_n: CIFAR-N label files (fabricated the real way: torch.save of numpy int64 arrays) are read without
running their pickle, checked against the CIFAR copy and the published md5s, and noise only the training part."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

from cifar_fixtures import make_fake_cifar10, make_fake_cifar100
from cifar_n_fixtures import make_cifar10n, make_cifar100n
from repro.cli import main
from repro.config import load_config, to_container
from repro.data import cifar_n
from repro.data.noise import actual_noise_rate, inject_noise, transition_matrix
from repro.errors import UserError
from repro.runs.rundir import RunDir, run_id

pytestmark = pytest.mark.filterwarnings("ignore::repro.data.cifar_n.FileDiffersFromRelease")  # fabricated files


def _cfg(path, kind="worse"):
    return {"kind": "cifar_n", "file": str(path), "type": kind}


def _labels(n=300, classes=10, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, classes, n)).long()


def test_training_part_gets_the_files_labels_and_the_rest_stays_clean(tmp_path):
    targets = _labels()
    arrays = make_cifar10n(tmp_path / "c10n.pt", targets.tolist())
    among = torch.arange(0, 300, 2)
    for kind, key in (("worse", "worse_label"), ("aggre", "aggre_label"), ("random2", "random_label2")):
        given, noisy = inject_noise(_cfg(tmp_path / "c10n.pt", kind), targets, num_classes=10, among=among)
        file_labels = torch.from_numpy(arrays[key])
        assert torch.equal(given[among], file_labels[among])
        assert torch.equal(given[1::2], targets[1::2])  # outside the training part: clean
        assert torch.equal(noisy, given != targets) and bool(noisy.any())


def test_cifar100n_reads_its_noisy_labels(tmp_path):
    targets = _labels(classes=100)
    arrays = make_cifar100n(tmp_path / "c100n.pt", targets.tolist())
    given, _ = inject_noise(_cfg(tmp_path / "c100n.pt", "noisy"), targets, num_classes=100, among=None)
    assert torch.equal(given, torch.from_numpy(arrays["noisy_label"]))
    with pytest.raises(UserError, match=r"no 'worse_label' column .* noise types are noisy"):
        inject_noise(_cfg(tmp_path / "c100n.pt", "worse"), targets, num_classes=100, among=None)


def test_transition_and_rate_are_the_empirical_ones_of_the_training_part(tmp_path):
    targets = _labels()
    arrays = make_cifar10n(tmp_path / "f.pt", targets.tolist())
    among = torch.arange(100, 300)
    given, _ = inject_noise(_cfg(tmp_path / "f.pt"), targets, num_classes=10, among=among)
    t = transition_matrix(_cfg(tmp_path / "f.pt"), 10, targets=targets, among=among, given=given, dtype=torch.float64)
    worse = torch.from_numpy(arrays["worse_label"])
    for i in range(10):
        rows = among[targets[among] == i]
        expected = torch.bincount(worse[rows], minlength=10).double() / rows.numel()
        assert torch.allclose(t[i], expected)
    rate = actual_noise_rate(_cfg(tmp_path / "f.pt"), 10, targets=targets, among=among, given=given)
    assert rate == pytest.approx(float((worse[among] != targets[among]).double().mean()))
    # Before a run (no data yet): the whole file's own T.
    whole = transition_matrix(_cfg(tmp_path / "f.pt"), 10, dtype=torch.float64)
    assert torch.allclose(whole.sum(1), torch.ones(10, dtype=torch.float64))


class _Planted:
    """Pickles as a call that would create a file if anything executed it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["call", "tensor"])
def test_a_pickle_with_anything_but_numpy_arrays_is_refused_without_running_it(tmp_path, payload):
    marker = tmp_path / "executed"
    targets = _labels()
    bad = _Planted(marker) if payload == "call" else torch.zeros(3)
    torch.save({"clean_label": targets.numpy(), "worse_label": bad}, tmp_path / "bad.pt")
    with pytest.raises(UserError, match="holds something other than numpy arrays") as info:
        inject_noise(_cfg(tmp_path / "bad.pt"), targets, num_classes=10, among=None)
    assert "nothing in it was executed" in str(info.value)
    assert not marker.exists()


def test_a_file_in_another_order_is_refused_saying_so(tmp_path):
    targets = _labels()
    make_cifar10n(
        tmp_path / "shuffled.pt", targets[torch.randperm(300, generator=torch.Generator().manual_seed(1))].tolist()
    )
    with pytest.raises(UserError, match="same labels in another image order") as info:
        inject_noise(_cfg(tmp_path / "shuffled.pt"), targets, num_classes=10, among=None)
    assert "python version" in str(info.value)
    make_cifar10n(tmp_path / "sorted.pt", sorted(targets.tolist()))
    with pytest.raises(UserError, match="sorted by class"):
        inject_noise(_cfg(tmp_path / "sorted.pt"), targets, num_classes=10, among=None)
    make_cifar10n(tmp_path / "short.pt", targets[:200].tolist())
    with pytest.raises(UserError, match="it has 200 labels, your training set 300"):
        inject_noise(_cfg(tmp_path / "short.pt"), targets, num_classes=10, among=None)


def test_md5_other_than_published_warns_and_published_does_not(tmp_path, monkeypatch):
    targets = _labels()
    path = tmp_path / "CIFAR-100_human.pt"
    make_cifar100n(path, _labels(classes=100).tolist())
    with pytest.warns(cifar_n.FileDiffersFromRelease, match="not a published release") as record:
        human = cifar_n.load_human_noise(_cfg(path, "noisy"), None)
    assert str(path) in str(record[0].message) and human.md5 == cifar_n.file_md5(path)
    release = cifar_n.RELEASES[1]
    monkeypatch.setattr(
        cifar_n,
        "RELEASES",
        (
            cifar_n.RELEASES[0],
            release.__class__(
                release.title, release.file_name, human.md5, release.size, release.data_name, release.types
            ),
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cifar_n.load_human_noise(_cfg(path, "noisy"), None).record(targets, targets, torch.arange(3))[
            "noise_file_published"
        ]


def test_missing_file_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR_N_FILE", raising=False)
    with pytest.raises(UserError, match="noise.file=/path/to/CIFAR-10_human.pt"):
        inject_noise({"kind": "cifar_n", "file": None, "type": "worse"}, _labels(), num_classes=10, among=None)
    with pytest.raises(UserError, match="does not exist"):
        inject_noise(_cfg(tmp_path / "nowhere.pt"), _labels(), num_classes=10, among=None)


def test_the_files_path_is_not_part_of_the_run_id_and_old_ids_stay():
    a = to_container(load_config(["noise=cifar_n", "noise.file=/a/CIFAR-10_human.pt", "data=cifar10"]))
    b = to_container(load_config(["noise=cifar_n", "noise.file=/b/copy.pt", "data=cifar10"]))
    c = to_container(load_config(["noise=cifar_n", "noise.file=/b/copy.pt", "noise.type=aggre", "data=cifar10"]))
    assert run_id(a) == run_id(b) != run_id(c)


# ------------------------------------------------------------------------------------------ end to end
def _train_argv(root, out, path, kind="worse"):
    return [
        "train",
        "data=cifar10",
        f"data.root={root}",
        "noise=cifar_n",
        f"noise.file={path}",
        f"noise.type={kind}",
        "model=tinycnn",
        "optim.epochs=1",
        "split=noisy",
        "split.meta_fraction=0.1",
        "tracker=none",
        "progress=none",
        f"output_root={out}",
        "data.batch_size=32",
    ]


@pytest.fixture
def fake_cifar10(tmp_path, monkeypatch):
    fake = make_fake_cifar10(tmp_path / "cifar", per_batch=40, n_test=20)
    fake.patch_checksums(monkeypatch)
    return fake


def test_repro_train_on_cifar10n_records_md5_type_and_realised_rate(tmp_path, fake_cifar10):
    path = tmp_path / "CIFAR-10_human.pt"
    arrays = make_cifar10n(path, fake_cifar10.train_labels)
    with pytest.warns(cifar_n.FileDiffersFromRelease):
        assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path)) == 0
    rd = RunDir.for_config(to_container(load_config(_train_argv(fake_cifar10.root, tmp_path / "out", path)[1:])))
    summary = rd.read_summary()
    assert summary["noise_type"] == "worse" and summary["noise_file_md5"] == cifar_n.file_md5(path)
    assert summary["noise_file_published"] is False
    from repro.data.splits import make_split

    train_idx, _ = make_split(torch.tensor(fake_cifar10.train_labels), meta_fraction=0.1, folds=1, fold=0, seed=0)
    clean, worse = np.asarray(fake_cifar10.train_labels), arrays["worse_label"]
    assert summary["realised_noise_rate"] == pytest.approx(float(np.mean(worse[train_idx] != clean[train_idx])))
    with np.load(rd.path / "annotators.npz") as f:  # CIFAR-10N's three annotators, for the agreement analysis
        votes = np.stack([arrays[f"random_label{k}"] for k in (1, 2, 3)], axis=1)
        assert (f["votes"] == votes[train_idx.numpy()]).all()


def test_repro_train_refuses_a_misaligned_file_with_exit_2(tmp_path, fake_cifar10, capsys):
    path = tmp_path / "tfds_order.pt"
    make_cifar10n(path, list(reversed(fake_cifar10.train_labels)))
    assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path)) == 2
    err = capsys.readouterr().err
    assert "does not fit your CIFAR training set" in err and "Traceback" not in err


def test_data_subset_keeps_each_image_with_its_own_human_label(tmp_path, monkeypatch):
    fake = make_fake_cifar100(tmp_path / "cifar", n_train=400, n_test=10)
    fake.patch_checksums(monkeypatch)
    path = tmp_path / "c100n.pt"
    arrays = make_cifar100n(path, fake.train_labels)
    from repro.training.experiment import load_run_data

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
    with pytest.warns(cifar_n.FileDiffersFromRelease):
        data, train_idx, _ = load_run_data(cfg)
    images = torch.from_numpy(fake.train_images).permute(0, 3, 1, 2)
    kept = [int(np.flatnonzero((images == img).flatten(1).all(1))[0]) for img in data.train.images[:20]]
    assert data.train_targets[:20].tolist() == arrays["noisy_label"][kept].tolist()


def test_known_transition_on_human_noise_counts_the_clean_labels_it_reads(tmp_path, fake_cifar10):
    path = tmp_path / "c10n.pt"
    make_cifar10n(path, fake_cifar10.train_labels)
    argv = [
        *_train_argv(fake_cifar10.root, tmp_path / "out", path, "aggre"),
        "method=loss_correction",
        "method.transition=known",
    ]
    assert main(argv) == 0
    summary = RunDir.for_config(to_container(load_config(argv[1:]))).read_summary()
    assert summary["clean_labels_use"] == "validation only; transition matrix"
    assert summary["clean_labels_used"] == summary["num_meta"] + summary["num_train"]


def test_repro_train_refuses_a_pickle_that_would_run_code_with_exit_2(tmp_path, fake_cifar10, capsys):
    marker = tmp_path / "executed"
    path = tmp_path / "CIFAR-10_human.pt"
    torch.save({"clean_label": np.asarray(fake_cifar10.train_labels), "worse_label": _Planted(marker)}, path)
    assert main(_train_argv(fake_cifar10.root, tmp_path / "out", path)) == 2
    err = capsys.readouterr().err
    assert "holds something other than numpy arrays" in err and "Traceback" not in err
    assert not marker.exists() and not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # nothing written
