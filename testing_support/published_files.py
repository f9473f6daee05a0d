"""The files a user brings, written exactly as they are published: CIFAR-10 and CIFAR-100 (the python version, the
layout torchvision reads) and CIFAR-N's two label files. Every test that reads such a file writes it with this
module; only the images and labels are made up (small, and learnable: each class is a colour).

Where each detail comes from, so the next reader can check it against the real files:

CIFAR-N (`write_cifar10n`, `write_cifar100n`). Checked byte for byte: given the published labels, these functions
write files whose md5 is the published one (96644db5574813cae939af5f7f2a0aec, a67b45c1d7992051865b5c755bd68bb1;
tests/data/test_published_files.py does it when CIFAR_N_DIR holds the real files). Read from the files themselves
(github.com/UCSC-REAL/cifar-10-100n, data/, with zipfile and pickletools):
- a torch.save zip of two records, `<folder>/data.pkl` then `<folder>/version` (b"3\\n"), and nothing else (no
  `byteorder`, no tensor storage: a dict without tensors, saved by a torch before 2.1 added `byteorder`);
- the folder: `archive` in CIFAR-10_human.pt, `CIFAR-100_human` in CIFAR-100_human.pt;
- records stored, not compressed, each aligned at 64 bytes by an "FB" extra field of b"Z"s, data descriptors after
  the data, zip64 end records: what torch's writer (miniz) writes (`_torch_zip`);
- data.pkl: pickle protocol 2 of a dict, numpy 1's array pickling (`numpy.core.multiarray._reconstruct`, the
  array's bytes as `_codecs.encode(text, "latin1")`), int64 little-endian arrays of one label per training image;
- CIFAR-10N's key order: clean_label, aggre_label, worse_label, random_label1, random_label2, random_label3, all
  int64 arrays;
- CIFAR-100N's: clean_label, noisy_label (int64 arrays), clean_coarse_label, noisy_coarse_label (plain lists of
  Python ints, the coarse class of each fine label: `CIFAR100_COARSE_OF_FINE`, read off the file's pairs). The
  CIFAR-100N file of 2021 (md5 3957ab2a1b5fd13bfbd6ab956831f9b3, replaced in 2023) held four int64 arrays, the coarse
  ones in the other order and wrong; `write_cifar100n(..., superseded=True)` writes that layout.

CIFAR python version (`write_cifar10`, `write_cifar100`; testing_support/published_cifar.py). Not checked byte for
byte (no copy here); from:
- the CIFAR page (cs.toronto.edu/~kriz/cifar.html): files `data_batch_1..5`, `test_batch`, `batches.meta` (CIFAR-10)
  and `train`, `test`, `meta` (CIFAR-100), each a Python 2 cPickle of a dict; `data` a uint8 numpy array N x 3072
  (1024 red, 1024 green, 1024 blue, each row-major), `labels` / `fine_labels` / `coarse_labels` lists of ints,
  `label_names` / `fine_label_names` / `coarse_label_names` lists; with pickle.load(..., encoding="bytes") every key
  and string is `bytes`;
- Python 2 str: the keys and strings are Python 2 `str`, which load as `bytes` with encoding="bytes" (the CIFAR
  page's recipe) and as `str` with encoding="latin1" (torchvision's): written here as SHORT_BINSTRING / BINSTRING,
  the opcodes Python 2 writes for them, at protocol 2, with numpy 1's `numpy.core.multiarray._reconstruct`;
- key order, as users print the loaded dicts (dict_keys(...) in public code and notes): CIFAR-10 batches
  batch_label, labels, data, filenames; batches.meta num_cases_per_batch, label_names, num_vis; CIFAR-100 train /
  test filenames, batch_label, fine_labels, coarse_labels, data; meta fine_label_names, coarse_label_names;
- torchvision's CIFAR10 / CIFAR100 (file names, `meta`'s key, the md5 checked before anything is unpickled);
- `batch_label` "training batch i of 5" / "testing batch 1 of 1" (CIFAR-10), "training batch 1 of 1" / "testing batch
  1 of 1" (CIFAR-100: an assumption by analogy), `filenames` "<name>.png" bytes; the class names are the real ones.

Sizes: a test writes a few hundred images, not 50,000. Nothing the suite checks depends on the size: the CIFAR-N file's
`clean_label` is compared with the whole fabricated training set, image by image, exactly as with the real files (and a
file of another length is refused the same way). `python -m testing_support.published_files DIR` writes full-size
copies (50,000 / 10,000 images) for a check by hand.
"""

from __future__ import annotations

import pickle
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from testing_support.published_cifar import (  # noqa: F401  (re-exported: this module is the one helper for every published file)
    _NUMPY1_RECONSTRUCT,
    _NUMPY2_RECONSTRUCT,
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    CIFAR100_COARSE_OF_FINE,
    CIFAR100_SUPERCLASSES,
    FakeCifar,
    write_cifar10,
    write_cifar100,
    write_cifar100_files,
)

CIFAR10N_KEYS = ("clean_label", "aggre_label", "worse_label", "random_label1", "random_label2", "random_label3")
CIFAR100N_KEYS = ("clean_label", "noisy_label", "clean_coarse_label", "noisy_coarse_label")
CIFAR100N_2021_KEYS = ("clean_label", "noisy_label", "noisy_coarse_label", "clean_coarse_label")
RECORD_FOLDERS = {"CIFAR-10N": "archive", "CIFAR-100N": "CIFAR-100_human", "CIFAR-100N 2021": "archive"}


# ---------------------------------------------------------------------------------------------------- CIFAR-N
def write_cifar10n(
    path: str | Path,
    clean_labels: Sequence[int],
    *,
    seed: int = 0,
    rates: tuple[float, float, float] = (0.2, 0.3, 0.4),
    columns: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Write CIFAR-10_human.pt for these clean labels (three simulated annotators at `rates`, their majority and the
    worst of three, as the release defines them), or for the given `columns`; return the columns."""
    if columns is None:
        columns = cifar10n_columns(np.asarray(clean_labels, dtype=np.int64), seed=seed, rates=rates)
    data = numpy1_pickle({k: np.asarray(columns[k], dtype="<i8") for k in CIFAR10N_KEYS})
    Path(path).write_bytes(_torch_zip(RECORD_FOLDERS["CIFAR-10N"], data))
    return columns


def write_cifar100n(
    path: str | Path,
    clean_labels: Sequence[int],
    *,
    seed: int = 0,
    rate: float = 0.4,
    columns: dict[str, Any] | None = None,
    superseded: bool = False,
) -> dict[str, Any]:
    """Write CIFAR-100_human.pt (`superseded`: the 2021 file's layout) for these clean fine labels, one simulated
    annotator at `rate`, or for the given `columns`; return the columns."""
    if columns is None:
        rng = np.random.default_rng(seed)
        clean = np.asarray(clean_labels, dtype=np.int64)
        noisy = simulated_annotations(clean, 100, rate=rate, rng=rng)
        coarse = np.asarray(CIFAR100_COARSE_OF_FINE)
        columns = {
            "clean_label": clean,
            "noisy_label": noisy,
            "clean_coarse_label": [int(c) for c in coarse[clean]],
            "noisy_coarse_label": [int(c) for c in coarse[noisy]],
        }
    if superseded:
        obj = {k: np.asarray(columns[k], dtype="<i8") for k in CIFAR100N_2021_KEYS}
        folder = RECORD_FOLDERS["CIFAR-100N 2021"]
    else:
        obj = {k: np.asarray(columns[k], dtype="<i8") for k in CIFAR100N_KEYS[:2]}
        obj.update({k: [int(v) for v in columns[k]] for k in CIFAR100N_KEYS[2:]})
        folder = RECORD_FOLDERS["CIFAR-100N"]
    Path(path).write_bytes(_torch_zip(folder, numpy1_pickle(obj)))
    return columns


def simulated_annotations(clean: np.ndarray, num_classes: int, *, rate: float, rng: np.random.Generator) -> np.ndarray:
    """One annotator: each label replaced by a uniformly random *other* class with probability `rate`."""
    flip = rng.random(clean.size) < rate
    other = (clean + rng.integers(1, num_classes, size=clean.size)) % num_classes
    return np.where(flip, other, clean).astype(np.int64)


def cifar10n_columns(clean: np.ndarray, *, seed: int, rates: tuple[float, float, float]) -> dict[str, np.ndarray]:
    """CIFAR-10N's six columns from three simulated annotators: aggre is their majority (ties: annotator 1), worse
    the first wrong one (the clean label when all three are right)."""
    rng = np.random.default_rng(seed)
    votes = np.stack([simulated_annotations(clean, 10, rate=r, rng=rng) for r in rates], axis=1)
    counts = np.stack([(votes == c).sum(1) for c in range(10)], axis=1)
    aggre = np.where(counts.max(1) >= 2, counts.argmax(1), votes[:, 0]).astype(np.int64)
    wrong = votes != clean[:, None]
    worse = np.where(wrong.any(1), votes[np.arange(clean.size), wrong.argmax(1)], clean).astype(np.int64)
    return {
        "clean_label": clean,
        "aggre_label": aggre,
        "worse_label": worse,
        "random_label1": votes[:, 0].copy(),
        "random_label2": votes[:, 1].copy(),
        "random_label3": votes[:, 2].copy(),
    }


def numpy1_pickle(obj: object) -> bytes:
    """Protocol 2, as the published files were pickled (Python 3, numpy 1): numpy 2 names the module of
    `_reconstruct` `numpy._core.multiarray`, numpy 1 `numpy.core.multiarray`; a GLOBAL opcode is plain text."""
    return pickle.dumps(obj, protocol=2).replace(_NUMPY2_RECONSTRUCT, _NUMPY1_RECONSTRUCT)


def _torch_zip(folder: str, data_pkl: bytes) -> bytes:
    """The zip torch.save wrote for the published files: `<folder>/data.pkl`, `<folder>/version`, laid out as torch's
    writer (miniz) lays them out (see the module docstring)."""
    out, central = bytearray(), []
    for name, data in (("data.pkl", data_pkl), ("version", b"3\n")):
        full = f"{folder}/{name}".encode()
        offset = len(out)
        pad = -(offset + 30 + len(full) + 4) % 64  # the data starts on a 64-byte boundary
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 0, 0x0808, 0, 0, 0, 0, 0, 0, len(full), len(extra))
        out += full + extra + data
        crc = zlib.crc32(data)
        out += struct.pack("<4s3I", b"PK\x07\x08", crc, len(data), len(data))
        central.append((full, crc, len(data), offset))
    start = len(out)
    for full, crc, size, offset in central:
        out += struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 0, 0, 0x0808, 0, 0, 0, crc, size, size, len(full), 0, 0, 0, 0, 0, offset
        )
        out += full
    size, n, end = len(out) - start, len(central), len(out)
    out += struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 0x031E, 45, 0, 0, n, n, size, start)  # zip64 end record
    out += struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)  # its locator
    out += struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, n, n, size, start, 0)
    return bytes(out)


# ------------------------------------------------------------------------------------- full size, by hand
def write_full_size(root: str | Path, seed: int = 0) -> dict[str, FakeCifar]:
    """CIFAR-10 and CIFAR-100 at their real sizes (50,000 training, 10,000 test images) under `root`, with
    CIFAR-10_human.pt and CIFAR-100_human.pt beside them, all in the published formats."""
    root = Path(root)
    fakes = {
        "cifar10": write_cifar10(root, per_batch=10_000, n_test=10_000, seed=seed),
        "cifar100": write_cifar100(root, n_train=50_000, n_test=10_000, seed=seed),
    }
    write_cifar10n(root / "CIFAR-10_human.pt", fakes["cifar10"].train_labels, seed=seed)
    write_cifar100n(root / "CIFAR-100_human.pt", fakes["cifar100"].train_labels, seed=seed)
    return fakes


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("fixture_data")
    for name, fake in write_full_size(target).items():
        print(name, fake.folder, fake.md5)
