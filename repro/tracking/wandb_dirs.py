"""Where W&B writes outside a run directory, and whether that place has room for a table's runs.

A run's own W&B folder is `<run_dir>/wandb/` (the tracker passes `dir=run_dir`). Beside it W&B keeps, per user:
its cache (WANDB_CACHE_DIR, default ~/.cache/wandb: service logs, downloaded artifacts), its data directory
(WANDB_DATA_DIR, default ~/.local/share/wandb: artifact staging, a few empty folders per run), its artifact
directory (WANDB_ARTIFACT_DIR) and its settings (WANDB_CONFIG_DIR, default ~/.config/wandb). On a cluster those
defaults sit in a home directory whose inode quota is small (W&B's own tracker has many reports of it), so
`repro doctor` warns when any of them is under $HOME on a file system with little room (space or inodes free).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIN_FREE_BYTES = 20 * 2**30  # a table's W&B files are small, its staged artifacts (checkpoints) are not
MIN_FREE_INODES = 200_000  # about 1,000 runs' worth (docs/wandb.md: files per run)


def wandb_directories() -> dict[str, Path]:
    """The directories W&B writes to outside run directories, as W&B itself resolves them now."""
    from wandb import env  # deferred: wandb is heavy

    config = os.environ.get("WANDB_CONFIG_DIR") or str(Path.home() / ".config" / "wandb")
    return {
        "WANDB_CACHE_DIR": Path(env.get_cache_dir()).expanduser(),
        "WANDB_DATA_DIR": Path(env.get_data_dir()).expanduser(),
        "WANDB_ARTIFACT_DIR": Path(env.get_artifact_dir()).expanduser(),
        "WANDB_CONFIG_DIR": Path(config).expanduser(),
    }


@dataclass(frozen=True)
class Room:
    path: Path
    free_bytes: int
    free_inodes: int | None  # None: the file system does not count inodes

    @property
    def little(self) -> bool:
        return self.free_bytes < MIN_FREE_BYTES or (self.free_inodes is not None and self.free_inodes < MIN_FREE_INODES)

    def describe(self) -> str:
        inodes = "" if self.free_inodes is None else f", {self.free_inodes:,} inodes"
        return f"{self.free_bytes / 2**30:.1f} GiB{inodes} free"


def room(path: Path) -> Room:
    """Free space and inodes (statvfs: the file system's, not a per-user quota) of the nearest existing ancestor."""
    probe = Path(path).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    st = os.statvfs(probe)
    return Room(Path(path), st.f_bavail * st.f_frsize, st.f_favail if st.f_files else None)


def cramped_home_directories(home: Path | None = None) -> dict[str, Room]:
    """W&B's directories that are under the home directory on a file system with little room."""
    home = (home or Path.home()).resolve()
    found = {}
    for var, path in wandb_directories().items():
        resolved = path.resolve()
        if resolved == home or home in resolved.parents:
            where = room(resolved)
            if where.little:
                found[var] = where
    return found
