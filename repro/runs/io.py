"""Atomic file writes: a crash or preemption never leaves a half-written file under its final name."""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from repro.errors import UserError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to a temp file beside `path`, fsync it, then rename it over `path`."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    import torch  # deferred: torch is heavy; repro.runs.rundir writes through this module and stays light

    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())


def atomic_save_npy(path: str | os.PathLike, array: Any) -> Path:
    import numpy as np  # deferred: numpy, so that `import repro.runs.rundir` stays light

    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue())


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """For writers that need a file name (e.g. a numpy memmap filled piece by piece): yield a temp path beside
    `path`; on success fsync it and rename it over `path`, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UserError(
                f"No space left on the device (or quota exceeded) while writing {path}. The previous version of that "
                "file, if any, is kept intact and nothing half-written was left; free some space and run the same "
                "command again (a run resumes from its last checkpoint)."
            ) from None
        raise


@contextmanager
def directory_undone_on_failure(path: str | os.PathLike) -> Iterator[Path]:
    """Create directory `path` (and its missing parents) for the block. Should the block fail, remove again those
    of them this call created that are still empty, deepest first: a refused attempt (bad data, a held run) leaves
    no empty directory behind. A directory that existed before, or that holds anything, is never removed."""
    path = Path(path)
    created, missing = [], path
    while not missing.exists():
        created.append(missing)
        missing = missing.parent
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for directory in created:
            try:
                directory.rmdir()  # only an empty directory goes; the first one that holds something stops it
            except OSError:
                break
        raise


TEMP_PATTERN = ".*.tmp"  # what atomic_output names its temp files (and runlock its own)


def remove_stale_temps(directory: str | os.PathLike) -> list[Path]:
    """Delete temp files a killed writer left under `directory`. Call only while holding its lock: then no live
    process can be writing them."""
    removed = []
    for tmp in Path(directory).rglob(TEMP_PATTERN):
        if tmp.is_file() and "wandb" not in tmp.relative_to(directory).parts:  # W&B's files are its own
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _json_default(obj: Any) -> Any:
    """Let numpy / torch scalars and paths appear in JSON records."""
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
