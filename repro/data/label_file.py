"""Read a user's label file written by `torch.save` of a dict of label columns, without executing its pickle.

Why not `torch.load`: with `weights_only=False` it runs whatever the pickle says (a pickle can call any function),
and with `weights_only=True` torch refuses numpy arrays unless told which globals to trust, in a way that changed
across torch versions (`safe_globals` came in 2.5). So we read the zip's `data.pkl` with an unpickler whose
`find_class` resolves exactly the globals the published files' pickles name, and nothing else:

- `numpy.core.multiarray._reconstruct` (numpy 1, the CIFAR-N release) / `numpy._core.multiarray._reconstruct`
  (numpy 2): builds the empty array whose state is set next;
- `numpy.ndarray`, `numpy.dtype`: the array and its element type;
- `_codecs.encode`, only as `encode(text, "latin1")`: protocol 2 writes the array's bytes this way.

Lists, ints and strings need no global (pickle builds them from its own opcodes): CIFAR-100_human.pt holds its coarse
labels as plain lists of ints beside its int64 arrays, so a column is a numpy array or a list, converted where it is
used. Every name is resolved from numpy's own objects, never imported by the name the file gives. Anything else (a
torch tensor's storage, a class, `os.system`, ...) is a UserError before anything is built.

The zip's record folder is whatever torch.save named it (`archive/` in CIFAR-10_human.pt, `CIFAR-100_human/` in
CIFAR-100_human.pt): the one `<folder>/data.pkl` record is read, whatever the folder.
"""

from __future__ import annotations

import codecs
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from repro.errors import UserError

__all__ = ["LabelColumn", "read_label_columns"]

LabelColumn = np.ndarray | list  # one column of a label file: a numpy array, or a plain list (of ints, when used)


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """`_codecs.encode` as protocol 2 uses it for an array's raw bytes; any other codec is refused."""
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1", errors)


_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]  # numpy's own _reconstruct, whatever module it lives in
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class _LabelsOnlyUnpickler(pickle.Unpickler):
    """Builds dicts, lists, numbers, strings and numpy arrays; refuses every other global and persistent id."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        kind = pid[0] if isinstance(pid, tuple) and pid else pid
        raise pickle.UnpicklingError(f"persistent id {kind!r} (a torch tensor's storage)")


def read_label_columns(path: str | Path, *, what: str) -> dict[str, LabelColumn]:
    """The dict of named label columns (numpy arrays or lists) in a `torch.save` zip at `path`; `what` names the
    file's role in errors. The columns' contents are checked where they are used (`label_column`)."""
    path = Path(path)
    data = _pickle_bytes(path, what=what)
    try:
        obj = _LabelsOnlyUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as error:
        raise UserError(
            f"{what} {path} holds something other than numpy arrays and lists ({error}), so it was not loaded: its "
            "pickle would run code or build objects this suite does not read, and nothing in it was executed. The "
            "file is not an unmodified release of these labels; get the original file again (it is a torch.save "
            "of a dict of label columns: numpy int64 arrays, and lists of ints)."
        ) from None
    except Exception as error:  # a truncated or garbled pickle
        raise UserError(
            f"{what} {path} could not be read ({type(error).__name__}: {error}): the file is damaged "
            "or not a label file. Get the original file again."
        ) from None
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, (np.ndarray, list)) for k, v in obj.items()
    ):
        held = type(obj).__name__
        if isinstance(obj, dict):
            odd = sorted({type(v).__name__ for v in obj.values() if not isinstance(v, (np.ndarray, list))})
            held = f"dict with {', '.join(odd) or 'non-string keys'}"
        raise UserError(
            f"{what} {path} does not hold a dict of named label columns (numpy arrays or lists; it holds a "
            f"{held}); it is not a label file of this kind. Get the original file again."
        )
    return obj


def label_column(columns: dict[str, LabelColumn], key: str, *, path: Path) -> np.ndarray:
    """Column `key` as an int64 numpy array: a 1-D integer array, or a list of ints (bools are not class indices)."""
    column = columns[key]
    if isinstance(column, list):
        if not all(type(v) is int for v in column):
            kinds = sorted({type(v).__name__ for v in column if type(v) is not int})
            raise UserError(
                f"{path}: column {key!r} is a list, but not of ints (it holds {', '.join(kinds)}); a label column "
                "holds class indices. Get the original file again."
            )
        return np.asarray(column, dtype=np.int64)
    if column.ndim != 1 or not np.issubdtype(column.dtype, np.integer):
        raise UserError(
            f"{path}: column {key!r} must be a 1-D integer array of class indices; got {column.dtype} "
            f"{column.shape}. Get the original file again."
        )
    return column.astype(np.int64, copy=True)


def _pickle_bytes(path: Path, *, what: str) -> bytes:
    """The `data.pkl` record of a torch zip archive (the format `torch.save` writes since torch 1.6)."""
    if not path.is_file():
        raise UserError(
            f"{what} {path} does not exist. Pass the path of your copy of the file (it is never "
            "downloaded: its licence asks each user to get it themselves)."
        )
    if not zipfile.is_zipfile(path):
        raise UserError(
            f"{what} {path} is not a torch zip archive (what torch.save writes): it is damaged, "
            "or another kind of file. Get the original file again."
        )
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(names) != 1:
            raise UserError(
                f"{what} {path} is a zip archive without the one <folder>/data.pkl record torch.save writes "
                f"(found {len(names)}); it is not a torch file. Get the original file again."
            )
        return archive.read(names[0])
