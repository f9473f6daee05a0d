"""A sweep's expansion kept in its folder (`<output_root>/sweeps/<name>/expansions/`), so that `repro tables`,
`repro figures` and `repro ledger` read the planned runs instead of composing and checking every run's config again
(most of what those commands cost).

An entry is read only where everything that decides the expansion is what it was when the entry was written: the
sweep as parsed (its rows, columns, seeds and stage keys, as selected) and the text of its file and of every sweep
file it names (a teacher's, a tuning source's), the scale (the stages' options with it), the command line's overrides,
the output root as given, the code and config tree of the `repro` package (every .py and .yaml under it), the
values of the environment variables the config tree or the sweep files read (`${oc.env:NAME}`), each registered
stage's module, and the versions of Python, Hydra and OmegaConf. All of it goes into one digest, written
on the entry's first line; an entry whose digest differs is stale and never read (it is written anew). A folder that
cannot be written (a read-only results folder) keeps no entry, and the sweep is expanded as before; an entry that
cannot be read is expanded again.

Takes a `SweepSpec` and the expansion's options; gives the planned runs (`cached_expansion`), written through
`repro.runs.io`'s atomic writes, so a reader never sees half an entry. `repro sweep` (a local run or a
SLURM submission) writes the entry of the expansion it made (`keep_expansion`) without reading one: it trains from
its own expansion. `repro sweep status` reads one (`kept_runs`) and writes none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import hydra
import omegaconf

import repro
from repro.errors import UserError
from repro.runs.io import atomic_write_text
from repro.sweep.protocol.registry import STAGES
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir

FORMAT = 1  # the entry's layout; a change of it makes every older entry stale
FOLDER = "expansions"
_TUPLE_FIELDS = tuple(f.name for f in dataclasses.fields(PlannedRun) if str(f.type).startswith("tuple"))


def cached_expansion(
    spec: SweepSpec,
    expand: Callable[[], list[PlannedRun]],
    *,
    output_root: str | Path,
    scale: Scale | None,
    extra_overrides: Sequence[str],
) -> list[PlannedRun]:
    """The sweep's planned runs: from its folder's entry where one was written for this very expansion (same digest),
    else `expand()`, whose runs are then kept there (where the folder can be written)."""
    entry = _entry(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    runs = read_entry(*entry) if entry else None
    if runs is None:
        runs = expand()
        if entry:
            write_entry(*entry, runs)
    return runs


def kept_runs(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]
) -> list[PlannedRun] | None:
    """The runs kept for this very expansion, or None where none is (absent, stale, unreadable, or a sweep file it
    names cannot be read: the expansion then says what is wrong). Writes nothing: `repro sweep status` reads
    through it and, like a dry run, leaves the output root as it found it."""
    entry = _entry(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    return read_entry(*entry) if entry else None


def keep_expansion(
    spec: SweepSpec,
    runs: Sequence[PlannedRun],
    *,
    output_root: str | Path,
    scale: Scale | None,
    extra_overrides: Sequence[str],
) -> None:
    """Keep runs just expanded (by `repro sweep`) as the entry `cached_expansion` reads for the same expansion, so
    that the first `repro tables`, `figures` or `ledger` after a sweep composes nothing where it expands the sweep
    as the sweep did (the same selection, scale, overrides and output root)."""
    entry = _entry(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    if entry:
        write_entry(*entry, runs)


def _entry(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]
) -> tuple[Path, str] | None:
    """The expansion's entry and the digest it must carry, computed once per call of the functions above; None
    where a sweep file the sweep names cannot be read (no entry: the expansion says what is wrong)."""
    digest = expansion_digest(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    if digest is None:
        return None
    return entry_path(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides), digest


def entry_path(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]
) -> Path:
    """One file per way of expanding the sweep (its selection, scale, overrides): a later expansion of the same kind
    writes over it, so that entries do not pile up as the code changes."""
    kind = _digest([repr(spec), repr(scale), list(extra_overrides), str(output_root)])
    return sweep_dir(output_root, spec.name) / FOLDER / f"{kind[:24]}.json"


def expansion_digest(
    spec: SweepSpec, *, output_root: str | Path, scale: Scale | None, extra_overrides: Sequence[str]
) -> str | None:
    """The digest of everything that decides the expansion (the module's docstring lists it); None where a sweep
    file the sweep names cannot be read."""
    try:
        files = sweep_file_texts(spec)
    except (OSError, UserError):
        return None
    return _digest(
        [
            FORMAT,
            repr(spec),
            files,
            repr(scale),
            list(extra_overrides),
            str(output_root),
            code_digest(),
            [[name, os.environ.get(name)] for name in env_names(files)],
            _stage_modules(),
            [sys.version, hydra.__version__, omegaconf.__version__],
        ]
    )


def sweep_file_texts(spec: SweepSpec) -> list[list[str]]:
    """[path, text] of the sweep's file and of every sweep file it names, and those they name, in the order found."""
    seen: dict[str, str] = {}
    pending = [spec]
    while pending:
        current = pending.pop()
        for path in [Path(current.path), *_named_paths(current)]:
            key = str(path.resolve())
            if key in seen or path.suffix not in (".yaml", ".yml"):
                continue
            seen[key] = path.read_text(encoding="utf-8")
            if path.resolve() != Path(current.path).resolve():
                pending.append(load_sweep(path))
    return [[path, text] for path, text in seen.items()]


def _named_paths(value: Any) -> Iterator[Path]:
    """Every path held anywhere in a parsed sweep (a stage's key that names another sweep file holds it resolved)."""
    if isinstance(value, Path):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _named_paths(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _named_paths(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _named_paths(item)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The `repro` package's code and config tree: every .py and .yaml file under it, by path and content."""
    package = Path(repro.__file__).parent
    files = sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yaml", ".yml") and p.is_file())
    hasher = hashlib.sha256()
    for path in files:
        hasher.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return hasher.hexdigest()


ENV_REFERENCE = re.compile(r"\$\{oc\.env:([A-Za-z_][A-Za-z0-9_]*)")


def env_names(files: list[list[str]]) -> list[str]:
    """The environment variables an expansion resolves (`${oc.env:NAME}` in the config tree or the sweep files, a
    data root say): their values decide the planned configs as much as the files' text does."""
    texts = [text for _, text in files] + [_config_text()]
    return sorted({name for text in texts for name in ENV_REFERENCE.findall(text)})


@lru_cache(maxsize=1)
def _config_text() -> str:
    """Every .yaml file of the `repro` package's config tree, joined (read once per process)."""
    package = Path(repro.__file__).parent
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.yaml")) if p.is_file())


def _stage_modules() -> list[list[str]]:
    """Each registered stage by key, with its module's text where the class was registered from outside `repro`."""
    out = []
    for key, target in STAGES.items():
        source = inspect.getsourcefile(target) if isinstance(target, type) else None
        out.append([key, str(target), Path(source).read_text(encoding="utf-8") if source else ""])
    return out


def _digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()


def read_entry(path: Path, digest: str) -> list[PlannedRun] | None:
    """The entry's runs where its first line is `digest`; None where it is absent, stale or unreadable."""
    try:
        with path.open(encoding="utf-8") as handle:
            if handle.readline().strip() != digest:
                return None
            rows = json.loads(handle.read())
        return [PlannedRun(**{k: tuple(v) if k in _TUPLE_FIELDS else v for k, v in row.items()}) for row in rows]
    except (OSError, ValueError, TypeError):
        return None


def write_entry(path: Path, digest: str, runs: Sequence[PlannedRun]) -> None:
    """Keep the runs under `digest` (atomically); a folder that cannot be written keeps none."""
    rows = [dataclasses.asdict(run) for run in runs]
    try:
        atomic_write_text(path, digest + "\n" + json.dumps(rows, separators=(",", ":")) + "\n")
    except OSError:
        return
