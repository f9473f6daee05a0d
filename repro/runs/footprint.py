"""How many file-system entries a run leaves: what a cluster's inode quota counts.

A finished learned-label run with W&B offline leaves its run directory (records, checkpoint, label records, its
W&B folder) and a few entries in W&B's own directories (repro/tracking/wandb_dirs.py); none of it grows with the
number of epochs (per-epoch records are appended to one file: repro/runs/npy_log.py). The budget below is the
stated one (docs/wandb.md, "Files per run"); tests/runs/test_footprint.py holds a run to it.
"""

from __future__ import annotations

import os

ENTRIES_PER_RUN = 80  # files, folders and links, run directory and W&B's directories together (62 measured)


def count_entries(*roots: str | os.PathLike) -> int:
    """Every file, folder and link under `roots` (not the roots themselves); missing roots count 0."""
    total = 0
    for root in roots:
        for _, dirs, files in os.walk(root):
            total += len(dirs) + len(files)
    return total
