"""CIFAR-N: real human label noise on CIFAR's training images (`noise=cifar_n`).

Wei et al., "Learning with Noisy Labels Revisited: A Study Using Real-World Human Annotations", ICLR 2022
(github.com/UCSC-REAL/cifar-10-100n). CIFAR-10N gives three independent annotations per training image
(`random_label1..3`), their majority (`aggre_label`) and the worst of the three (`worse_label`); CIFAR-100N one
noisy label per image (`noisy_label`). The files are CC BY-NC 4.0: the suite does not ship them; a run reads the
user's copy (`noise.file`, or the environment variable CIFAR_N_FILE), which `repro data download cifar-n` fetches from
the authors' repository (repro/data/published.py); a run never downloads.

The published files, as they are: `torch.save` zips (record folder `archive/` in CIFAR-10_human.pt,
`CIFAR-100_human/` in CIFAR-100_human.pt) of a dict whose label columns are int64 numpy arrays of 50,000, except
CIFAR-100N's `clean_coarse_label` / `noisy_coarse_label`, plain lists of ints (this suite reads neither). Only the
columns a run uses are required: `clean_label` and its `noise.type`'s column (and CIFAR-10N's three annotators, when
present, for the agreement record).

What this module guarantees before any training:
- the file is read without executing its pickle (repro/data/label_file.py);
- its md5 is compared with the published ones: another md5 is a warning naming the file, not an error (the
  superseded 2021 CIFAR-100N file is named as such: its fine labels equal the current file's);
- its `clean_label` equals the user's whole CIFAR training set's labels, position by position (the official loader's
  assertion), before `data.subset` keeps some images with their own labels (`HumanNoise.subset`). A copy in another
  image order would silently attach labels to the wrong images: refused, saying which order the file seems to be in.
The noisy labels replace the given labels of the run's training part only; the meta (and validation) part keeps its
clean labels, as with the synthetic noise models (repro/data/noise/synthetic.py).

This module imports no torch: it is what the releases are (the noise models' declarations read their label types
when a config is checked, also in `repro tables` and `repro ledger`), a run's record of its human labels and the
checks of its `noise` keys. Reading a file's labels into tensors, and the order check, is cifar_n_labels.py.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from repro.errors import UserError

if TYPE_CHECKING:
    from torch import Tensor

SOURCE = "github.com/UCSC-REAL/cifar-10-100n"


@dataclass(frozen=True)
class Release:
    """One published CIFAR-N file: its name, md5, size and which `noise.type` reads which of its arrays."""

    title: str
    file_name: str
    md5: str
    size: int
    data_name: str  # the suite's data set it labels
    types: Mapping[str, str]  # noise.type -> array key


RELEASES = (
    Release(
        "CIFAR-10N",
        "CIFAR-10_human.pt",
        "96644db5574813cae939af5f7f2a0aec",
        2_401_007,
        "cifar10",
        {
            "aggre": "aggre_label",
            "random1": "random_label1",
            "random2": "random_label2",
            "random3": "random_label3",
            "worse": "worse_label",
        },
    ),
    Release(
        "CIFAR-100N",
        "CIFAR-100_human.pt",
        "a67b45c1d7992051865b5c755bd68bb1",
        1_000_959,
        "cifar100",
        {"noisy": "noisy_label"},
    ),
)
# Files once published and since replaced -> what differs (the run goes on, with a warning that says so).
SUPERSEDED = {
    "3957ab2a1b5fd13bfbd6ab956831f9b3": (
        "the CIFAR-100N file of 2021-10-12, replaced on 2023-03-15 because its coarse labels were wrong; its "
        "clean_label and noisy_label equal the current file's, and this suite reads no coarse label, so runs are "
        "unaffected"
    ),
}
NOISE_TYPES = tuple(t for release in RELEASES for t in release.types)
ANNOTATOR_KEYS = ("random_label1", "random_label2", "random_label3")  # CIFAR-10N's three independent annotators


class FileDiffersFromRelease(UserWarning):
    """The label file's md5 is none of the published ones (the run goes on; the md5 is recorded)."""


@dataclass(frozen=True)
class HumanNoise:
    """A CIFAR-N file's labels for one `noise.type`, aligned with the run's training set (index i = image i)."""

    file: Path | None  # None: simulated annotators (repro/data/simulated_annotators.py)
    md5: str | None
    noise_type: str
    given: Tensor  # int64 [N]: the human label of every training image
    clean: Tensor  # int64 [N]: the file's clean_label (equal to the CIFAR training labels)
    annotators: Tensor | None  # int64 [N, 3]: CIFAR-10N's three annotations (None for CIFAR-100N)

    def subset(self, keep: Tensor) -> HumanNoise:
        """The labels of the kept training images (data.subset), in the kept order."""
        votes = None if self.annotators is None else self.annotators[keep]
        return HumanNoise(self.file, self.md5, self.noise_type, self.given[keep], self.clean[keep], votes)

    def record(self, given: Tensor, true: Tensor, among: Tensor) -> dict[str, Any]:
        """What a run records about its noise: the file's md5 and name, the type, the realised noise rate over the
        training part (the share of its given labels that differ from the clean ones)."""
        wrong = (given[among] != true[among]).double()
        record: dict[str, Any] = {
            "noise_type": self.noise_type,
            "realised_noise_rate": float(wrong.mean()) if wrong.numel() else 0.0,
        }
        if self.file is not None:
            record.update(
                noise_file=self.file.name,
                noise_file_md5=self.md5,
                noise_file_published=self.md5 in {r.md5 for r in RELEASES},
            )
        return record


def noise_file_path(noise_cfg: Mapping[str, Any]) -> Path:
    """noise.file, or the environment's CIFAR_N_FILE; a UserError when neither names a file."""
    raw = noise_cfg.get("file") or os.environ.get("CIFAR_N_FILE")
    if not raw:
        raise UserError(
            "noise=cifar_n needs the CIFAR-N label file: pass noise.file=/path/to/CIFAR-10_human.pt (CIFAR-10N) or "
            "CIFAR-100_human.pt (CIFAR-100N), or set CIFAR_N_FILE. The files are CC BY-NC 4.0 and not shipped with "
            f"this suite: `repro data download cifar-n --root DIR` fetches them from {SOURCE} (docs/cifar_n.md)."
        )
    return Path(str(raw)).expanduser()


def noise_type(noise_cfg: Mapping[str, Any]) -> str:
    kind = str(noise_cfg.get("type"))
    if kind not in NOISE_TYPES:
        raise UserError(
            f"noise.type={kind!r} is not a CIFAR-N label set; use one of {', '.join(NOISE_TYPES[:-1])} "
            f"(CIFAR-10N) or {NOISE_TYPES[-1]} (CIFAR-100N)."
        )
    return kind


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def warn_if_unpublished(path: Path, md5: str) -> None:
    if md5 in {r.md5 for r in RELEASES}:
        return
    if md5 in SUPERSEDED:
        warnings.warn(
            f"The CIFAR-N label file {path} (md5 {md5}) is {SUPERSEDED[md5]}. The run goes on and records its md5; "
            f"the current file is at {SOURCE}.",
            FileDiffersFromRelease,
            stacklevel=2,
        )
        return
    published = "; ".join(f"{r.file_name} {r.md5}" for r in RELEASES)
    warnings.warn(
        f"The CIFAR-N label file {path} has md5 {md5}, which is not a published release ({published}). The run "
        f"goes on with it and records its md5. If it is not an unmodified copy, get the file again from {SOURCE}.",
        FileDiffersFromRelease,
        stacklevel=2,
    )
