"""A `.npy` file that grows one record at a time: per-epoch records in one file instead of one file per epoch.

Why: a 165-epoch run that writes a file per epoch leaves hundreds of inodes, and a table of hundreds of runs fills
a cluster's inode quota. Here every record goes into one ordinary `.npy` file (`np.load(path, mmap_mode="r")` reads
it, any numpy tool opens it) whose first axis is the record count.

How it stays sound without a rename per write (libraries that append to .npy files do not truncate, which a resumed
run needs):
- the header has a fixed size (HEADER_BYTES), so rewriting the count never moves the data;
- a record is appended after the last counted one, flushed and fsync'ed, and only then does the header count it;
  a crash between the two leaves bytes past the count, which readers ignore (numpy reads `count` records) and the
  next append overwrites;
- `truncate(n)` drops every record past the n-th (a resumed run keeps the epochs its checkpoint committed).
One writer at a time (the run's lock), as for every file of a run directory.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"\x93NUMPY\x01\x00"
HEADER_BYTES = 512  # the whole header, magic included: a multiple of 64, as numpy aligns its own


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    room = HEADER_BYTES - len(MAGIC) - 2 - 1
    if len(text) > room:
        raise ValueError(f"a record of dtype {dtype} and shape {shape[1:]} does not fit a {HEADER_BYTES}-byte header")
    body = (text.ljust(room) + "\n").encode("latin1")
    return MAGIC + len(body).to_bytes(2, "little") + body


def _read_header(f: Any) -> tuple[np.dtype, tuple[int, ...]]:
    head = f.read(HEADER_BYTES)
    if len(head) != HEADER_BYTES or not head.startswith(MAGIC):
        raise ValueError("not a record log: its header is missing or truncated")
    fields = ast.literal_eval(head[len(MAGIC) + 2 :].decode("latin1"))
    return np.lib.format.descr_to_dtype(fields["descr"]), tuple(fields["shape"])


class NpyLog:
    """Records of one dtype and shape appended to `path` (created on the first append)."""

    def __init__(self, path: str | os.PathLike, dtype: Any, record_shape: tuple[int, ...] = ()) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.record_shape = tuple(int(s) for s in record_shape)
        self.record_bytes = self.dtype.itemsize * int(np.prod(self.record_shape, dtype=np.int64))

    def count(self) -> int:
        """Records written and counted (0 when the file does not exist)."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            dtype, shape = _read_header(f)
        if dtype != self.dtype or shape[1:] != self.record_shape:
            raise ValueError(
                f"{self.path} holds records of dtype {dtype} and shape {shape[1:]}, "
                f"not {self.dtype} {self.record_shape}"
            )
        return shape[0]

    def append(self, record: np.ndarray) -> int:
        """Write one record after the counted ones; returns the new count."""
        data = np.asarray(record, dtype=self.dtype)  # tobytes() writes C order whatever the layout
        if data.shape != self.record_shape:
            raise ValueError(f"a record of shape {data.shape} for a log of shape {self.record_shape}")
        count = self.count()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "r+b" if self.path.exists() else "w+b") as f:
            if count == 0:
                f.write(_header(self.dtype, (0, *self.record_shape)))
            f.seek(HEADER_BYTES + count * self.record_bytes)
            f.write(data.tobytes())
            f.flush()
            os.fsync(f.fileno())
            self._set_count(f, count + 1)
        return count + 1

    def truncate(self, count: int) -> None:
        """Keep the first `count` records (a resumed run: the epochs its checkpoint committed)."""
        have = self.count()
        if count > have:
            raise ValueError(f"{self.path} holds {have} records, fewer than the {count} to keep")
        if count == have:
            return
        with open(self.path, "r+b") as f:
            self._set_count(f, count)
            f.truncate(HEADER_BYTES + count * self.record_bytes)

    def _set_count(self, f: Any, count: int) -> None:
        f.seek(0)
        f.write(_header(self.dtype, (count, *self.record_shape)))
        f.flush()
        os.fsync(f.fileno())


def read_log(path: str | os.PathLike) -> np.ndarray:
    """Every counted record, memory-mapped read-only (an ordinary .npy reader)."""
    with open(path, "rb") as f:
        dtype, shape = _read_header(f)
    if shape[0] == 0:  # nothing to map
        return np.empty(shape, dtype)
    return np.load(path, mmap_mode="r", allow_pickle=False)
