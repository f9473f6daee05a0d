"""Compile, once, the byte-code of what the project's processes import.

`make setup` runs it after the install (`python -m repro.commands.bytecode repro analysis --modules torch._dynamo
wandb`), with the byte-code cache the Makefile keeps under the venv. Why: the install leaves byte-code to the first
import of each module (`pip --no-compile`, docs/install.md), and the first imports after it come side by side: the
suite's three pytest workers, the processes its tests start, the demo's two workers. Each of them compiled torch's,
Hydra's, pandas' and the project's Python again, at once (collecting the first tier took 15.5 s per worker instead of
8 s, and the tier 45 s longer: docs/tests.md, "What is expensive is made once"). Compiled here, once, every one of
them reads it. It sits with the commands as the other `python -m` entry points do (options_doc, costs_doc), and
imports nothing of the project.

What is imported: every module of the named packages (what a run, a sweep and the analysis import at their top), and
the modules a run imports only when it needs them (`--modules`): torch's dynamo, which the first optimizer imports,
and wandb, the default tracker. The two parts are imported side by side, the single modules in a second process (12-14
s against 16-17 s one after the other, from an empty cache). A module that fails to import is named on stderr and
skipped: this only fills a cache, and the same import fails, with its own error, where a command needs it.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import pkgutil
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor


def module_names(package: str) -> list[str]:
    """`package` and every module below it, but `__main__` modules (importing one would run its command)."""
    root = importlib.import_module(package)
    below = pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}.", onerror=lambda name: None)
    return [package, *(info.name for info in below if info.name.rsplit(".", 1)[-1] != "__main__")]


def import_side_by_side(packages: Iterable[str], modules: Iterable[str]) -> dict[str, str]:
    """`import_all`, the single modules in a second process while this one walks the packages: the two compile
    different modules at once on two cores (both compile torch's first, each its own copy of the same files)."""
    modules = list(modules)
    if not modules:
        return import_all(packages, ())
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        singles = pool.submit(import_all, (), modules)
        failed = import_all(packages, ())
        return {**failed, **singles.result()}


def import_all(packages: Iterable[str], modules: Iterable[str]) -> dict[str, str]:
    """Import every module of `packages` and each of `modules`; return the ones that failed, with their error."""
    failed: dict[str, str] = {}
    names = [name for package in packages for name in module_names(package)]
    for name in [*names, *modules]:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - a cache warm-up names what it could not import and goes on
            failed[name] = f"{type(error).__name__}: {error}".splitlines()[0]
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.commands.bytecode", description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help="packages whose every module is imported")
    parser.add_argument("--modules", nargs="*", default=[], help="single modules to import (not their submodules)")
    args = parser.parse_args(argv)
    if not sys.flags.dont_write_bytecode:
        started = time.monotonic()
        failed = import_side_by_side(args.packages, args.modules)
        for name, error in failed.items():
            print(f"repro.commands.bytecode: not compiled, {name} did not import ({error})", file=sys.stderr)
        print(f"byte-code of the project's imports compiled in {time.monotonic() - started:.0f} s", file=sys.stderr)
    else:
        print("repro.commands.bytecode: nothing compiled, PYTHONDONTWRITEBYTECODE is set", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
