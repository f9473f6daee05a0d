"""noise=cifar_n: CIFAR-N label files, written in the published formats (testing_support/published_files.py:
CIFAR-100N's coarse columns are lists of ints, the record folders differ), are read without running their pickle,
checked against the whole CIFAR training set and the published md5s, and noise only the training part, with or without
data.subset."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

from repro.config import load_config, to_container
from repro.data import cifar_n, cifar_n_labels
from repro.data.noise import actual_noise_rate, inject_noise, transition_matrix
from repro.errors import UserError
from repro.runs.rundir import run_id
from testing_support.published_files import write_cifar10n, write_cifar100n

pytestmark = pytest.mark.filterwarnings("ignore::repro.data.cifar_n.FileDiffersFromRelease")  # fabricated files


def _cfg(path, kind="worse"):
    return {"kind": "cifar_n", "file": str(path), "type": kind}


def _labels(n=300, classes=10, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, classes, n)).long()


def test_training_part_gets_the_files_labels_and_the_rest_stays_clean(tmp_path):
    targets = _labels()
    arrays = write_cifar10n(tmp_path / "c10n.pt", targets.tolist())
    among = torch.arange(0, 300, 2)
    for kind, key in (("worse", "worse_label"), ("aggre", "aggre_label"), ("random2", "random_label2")):
        given, noisy = inject_noise(_cfg(tmp_path / "c10n.pt", kind), targets, num_classes=10, among=among)
        file_labels = torch.from_numpy(arrays[key])
        assert torch.equal(given[among], file_labels[among])
        assert torch.equal(given[1::2], targets[1::2])  # outside the training part: clean
        assert torch.equal(noisy, given != targets) and bool(noisy.any())


def test_cifar100n_reads_its_noisy_labels(tmp_path):
    targets = _labels(classes=100)
    arrays = write_cifar100n(tmp_path / "c100n.pt", targets.tolist())
    given, _ = inject_noise(_cfg(tmp_path / "c100n.pt", "noisy"), targets, num_classes=100, among=None)
    assert torch.equal(given, torch.from_numpy(arrays["noisy_label"]))
    with pytest.raises(UserError, match=r"no 'worse_label' column .* noise types are noisy"):
        inject_noise(_cfg(tmp_path / "c100n.pt", "worse"), targets, num_classes=100, among=None)


def test_transition_and_rate_are_the_empirical_ones_of_the_training_part(tmp_path):
    targets = _labels()
    arrays = write_cifar10n(tmp_path / "f.pt", targets.tolist())
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
    write_cifar10n(
        tmp_path / "shuffled.pt", targets[torch.randperm(300, generator=torch.Generator().manual_seed(1))].tolist()
    )
    with pytest.raises(UserError, match="same labels in another image order") as info:
        inject_noise(_cfg(tmp_path / "shuffled.pt"), targets, num_classes=10, among=None)
    assert "python version" in str(info.value)
    write_cifar10n(tmp_path / "sorted.pt", sorted(targets.tolist()))
    with pytest.raises(UserError, match="sorted by class"):
        inject_noise(_cfg(tmp_path / "sorted.pt"), targets, num_classes=10, among=None)
    write_cifar10n(tmp_path / "short.pt", targets[:200].tolist())
    with pytest.raises(UserError, match="it has 200 labels, your training set 300"):
        inject_noise(_cfg(tmp_path / "short.pt"), targets, num_classes=10, among=None)


def test_md5_other_than_published_warns_and_published_does_not(tmp_path, monkeypatch):
    targets = _labels()
    path = tmp_path / "CIFAR-100_human.pt"
    write_cifar100n(path, _labels(classes=100).tolist())
    with pytest.warns(cifar_n.FileDiffersFromRelease, match="not a published release") as record:
        human = cifar_n_labels.load_human_noise(_cfg(path, "noisy"), None)
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
        assert cifar_n_labels.load_human_noise(_cfg(path, "noisy"), None).record(targets, targets, torch.arange(3))[
            "noise_file_published"
        ]


def test_the_superseded_cifar100n_file_is_read_and_named_as_such(tmp_path, monkeypatch):
    """The 2021 file (four int64 arrays, record folder archive/) has the current file's fine labels: it trains, with
    a warning that says which file it is."""
    targets = _labels(classes=100)
    path = tmp_path / "CIFAR-100_human.pt"
    columns = write_cifar100n(path, targets.tolist(), superseded=True)
    monkeypatch.setattr(cifar_n, "SUPERSEDED", {cifar_n.file_md5(path): "the CIFAR-100N file of 2021-10-12"})
    with pytest.warns(cifar_n.FileDiffersFromRelease, match="is the CIFAR-100N file of 2021-10-12"):
        given, _ = inject_noise(_cfg(path, "noisy"), targets, num_classes=100, among=None)
    assert torch.equal(given, torch.from_numpy(columns["noisy_label"]))


def test_a_label_column_that_is_a_list_of_anything_but_ints_is_refused(tmp_path):
    targets = _labels()
    path = tmp_path / "c10n.pt"
    torch.save({"clean_label": targets.numpy(), "worse_label": [float(v) for v in targets.tolist()]}, path)
    with pytest.raises(UserError, match="column 'worse_label' is a list, but not of ints"):
        inject_noise(_cfg(path), targets, num_classes=10, among=None)


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
