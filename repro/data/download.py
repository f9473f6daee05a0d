"""`repro data download`: the published files (repro/data/published.py) fetched into a data root, checked, atomically.

Each file is fetched by torchvision's downloader (`download_url`: redirects followed, a progress bar) into a temporary
folder inside the root, so that the last step is a rename on one file system. Its md5 is compared with the published
one; an archive is then extracted there (torchvision's `extract_archive`) and each file it holds checked against
torchvision's md5s. Only then does the folder (or the label file) take its place in the root. A wrong checksum, a
network error or an interruption leaves the root as it was: no partial file, no half-extracted folder.

What is already in the root is checked first, before anything is fetched: what checks out is skipped, so a re-run
fetches only what is missing; what does not check out is refused, naming it (remove it and run again), so nothing the
user put there is overwritten.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import sys
import tempfile
import urllib.error
from pathlib import Path
from typing import Callable, Iterable

from repro.data.cifar_n import SUPERSEDED, file_md5
from repro.data.published import MIRROR_VARIABLE, PublishedFile, check_names, published_files, torchvision_datasets
from repro.errors import UserError

Catalogue = Callable[[str], Iterable[PublishedFile]]  # data set name -> its published files (tests inject their own)


def download(
    names: list[str],
    root: str | Path,
    *,
    mirror: str | None = None,
    catalogue: Catalogue = published_files,
    say: Callable[[str], None] = print,
) -> list[Path]:
    """Fetch what `names` need into `root` (created if absent); the paths that were fetched (not those already
    there). A UserError, with the root unchanged, when something there is damaged or a fetched file fails its md5."""
    check_names(names)
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(f"--root {root} is a file; give the directory that data.root will name. Nothing was changed.")
    wanted = [(name, file) for name in dict.fromkeys(names) for file in catalogue(name)]
    todo = []
    for name, file in wanted:  # every check of what is there first: a refusal comes before any download
        if _already_there(root, file):
            say(f"{name}: {root / file.lands_as} is already there (md5 checked)")
        else:
            todo.append((name, file.on_mirror(mirror)))
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    fetched = []
    try:
        for name, file in todo:
            fetched.append(_fetch(root, file, say))
            say(f"{name}: {fetched[-1]}")
    finally:
        if created and not fetched:
            with contextlib.suppress(OSError):
                root.rmdir()  # the root this call made, left empty by a refusal: as it was
    return fetched


def _already_there(root: Path, file: PublishedFile) -> bool:
    """Whether `file` is in `root` and checks out (False: absent); a UserError naming what is damaged."""
    target = root / file.lands_as
    if not target.exists():
        return False
    if not file.folder:
        md5 = file_md5(target)
        if md5 != file.md5:
            older = f": {SUPERSEDED[md5]}" if md5 in SUPERSEDED else ""
            raise UserError(_damaged(target, f"its md5 is {md5}, the published file's {file.md5}{older}"))
        return True
    problems = _member_problems(target, file)
    if problems:
        raise UserError(_damaged(target, "; ".join(problems)))
    return True


def _member_problems(folder: Path, file: PublishedFile) -> list[str]:
    """What is wrong with the files of `folder` that `file` (an archive) holds: each missing or altered one."""
    problems = []
    for member, md5 in file.members.items():
        if not (folder / member).is_file():
            problems.append(f"{member} is missing")
        elif file_md5(folder / member) != md5:
            problems.append(f"{member} does not have its published md5")
    return problems


def _damaged(target: Path, what: str) -> str:
    return (
        f"{target} is already there but does not check out: {what}. Remove it (rm -r {shlex.quote(str(target))}) "
        "and run the command again, which fetches it afresh; nothing was downloaded or changed."
    )


def _fetch(root: Path, file: PublishedFile, say: Callable[[str], None]) -> Path:
    """Download `file` into a temporary folder of `root`, check it, extract it, and move the result into place."""
    utils = torchvision_datasets().utils
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as temporary:
        work = Path(temporary)
        say(f"downloading {file.url}")
        try:
            with contextlib.redirect_stderr(sys.stdout):  # torchvision's progress bar: stderr is for errors
                utils.download_url(file.url, str(work), file.file_name)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
            raise UserError(_unreachable(root, file, exc)) from None
        got = work / file.file_name
        md5 = file_md5(got)
        if md5 != file.md5:
            raise UserError(
                f"{file.file_name} from {file.url} is damaged or incomplete: {got.stat().st_size:,} bytes with md5 "
                f"{md5}, where the published file's md5 is {file.md5}. Nothing of it was written to {root}. Run the "
                "command again (a dropped connection truncates a download); if it fails the same way, that server "
                "does not serve the published file: use the original source (leave out --mirror and "
                f"{MIRROR_VARIABLE}) or fix the mirror's copy."
            )
        if not file.folder:
            return _move(got, root / file.file_name)
        extracted = work / "extracted"
        utils.extract_archive(str(got), str(extracted))
        folder = extracted / file.folder
        problems = _member_problems(folder, file)
        if problems:
            raise UserError(
                f"{file.file_name} has its published md5 but does not hold {file.folder}/ as published ("
                f"{'; '.join(problems)}). Nothing of it was written to {root}."
            )
        return _move(folder, root / file.folder)


def _move(source: Path, target: Path) -> Path:
    """Rename `source` to `target` (the same file system): the file or folder appears whole or not at all."""
    os.replace(source, target)
    return target


def _unreachable(root: Path, file: PublishedFile, exc: Exception) -> str:
    reason = exc if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", None) or exc
    return (
        f"Could not download {file.file_name} from {file.url}: {reason}. Nothing of it was written to {root}. This "
        "machine must reach that server (a cluster's login node usually can, its compute nodes often cannot); or put "
        f"the files on a mirror it can reach, each under its own name, and pass --mirror URL (or set "
        f"{MIRROR_VARIABLE})."
    )
