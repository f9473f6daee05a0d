"""Every module is found by its name, never by a path: benchmarks/ is a package that its tests import by name
(`from benchmarks import chaos`), nothing in benchmarks/, testing_support/ or tests/ puts a folder on `sys.path`, no
test loads a benchmark from its file, benchmarks never import the tests, and the checkout root is one constant
(repro/checkout.py's CHECKOUT_ROOT) rather than a count of folders up from a module's own file.

benchmarks/ holds measurements only: what tests and benchmarks share lives in testing_support/ (it imports no module
of the suite), no test outside tests/benchmarks/ imports or runs a benchmark, and a benchmark reaches a sweep stage
through what the stage's package offers (its `__init__`), never a module inside its folder.

pytest's `monkeypatch.syspath_prepend` is an edit too: the stage registry's tests load a user's stage from its file
(tests/plugin_module.py), putting no folder on the path."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from repo_paths import REPO, TESTS

BENCHMARKS = REPO / "benchmarks"
SUPPORT = REPO / "testing_support"
BENCHMARK_TESTS = TESTS / "benchmarks"
ROOT_MODULE = REPO / "repro" / "checkout.py"
THIS_FILE = TESTS / "project" / "test_import_paths.py"
PATH_LOADERS = {"spec_from_file_location", "SourceFileLoader", "run_path", "load_source"}


def _sources(*folders: Path) -> dict[Path, ast.Module]:
    return {path: tree for folder in folders for path, tree in _parsed(folder).items()}


@cache  # each folder parsed once per process: the checks only read the trees
def _parsed(folder: Path) -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(folder.rglob("*.py"))}


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (a module's, a class's, a function's)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _is_sys_path(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys"


def sys_path_edits(tree: ast.Module) -> list[int]:
    """Lines that touch `sys.path` (insert, slice assignment, append, a new list), add a site folder, or prepend one
    for a test (pytest's `monkeypatch.syspath_prepend`)."""
    lines = [node.lineno for node in ast.walk(tree) if _is_sys_path(node)]
    lines += [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("addsitedir", "syspath_prepend")
    ]
    return sorted(lines)


def loads_by_path(tree: ast.Module, scripts: set[str]) -> list[int]:
    """Lines that load a module from its file (importlib's file loaders, runpy.run_path) or name a benchmark
    script's file in code (to run it by path)."""
    lines = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in PATH_LOADERS
    ]
    docstrings = _docstrings(tree)
    lines += [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value.rsplit("/", 1)[-1] in scripts
    ]
    return sorted(lines)


def _holds_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


def root_counting(tree: ast.Module) -> list[int]:
    """Lines that climb folders up from a module's own file: `Path(__file__)...parents[N]`, `.parent.parent`."""
    lines = []
    for node in ast.walk(tree):
        parents = isinstance(node, ast.Subscript) and getattr(node.value, "attr", None) == "parents"
        twice = (
            isinstance(node, ast.Attribute) and node.attr == "parent" and getattr(node.value, "attr", None) == "parent"
        )
        if (parents or twice) and _holds_file(node):
            lines.append(node.lineno)
    return sorted(lines)


def benchmark_scripts() -> set[str]:
    return {p.name for p in BENCHMARKS.rglob("*.py") if p.name != "__init__.py"}


def test_nothing_in_benchmarks_or_tests_edits_sys_path():
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path, tree in _sources(BENCHMARKS, SUPPORT, TESTS).items()
        for line in sys_path_edits(tree)
    ]
    assert not found, (
        "edits of sys.path (import the module by its name: the checkout root is on the path under pytest and "
        "`python -m benchmarks.NAME`): " + ", ".join(found)
    )


# The one module that loads a file by its location: a user's stage, written to a temporary file by the registry's
# tests, found as a user's own plug-in is (never a benchmark: its callers name no benchmark script).
PLUGIN_LOADER = TESTS / "plugin_module.py"


def test_no_test_or_benchmark_loads_a_benchmark_by_its_file():
    scripts = benchmark_scripts()
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path, tree in _sources(BENCHMARKS, TESTS).items()
        if path not in (THIS_FILE, PLUGIN_LOADER)  # its examples name scripts; the loader of a user's plug-in file
        for line in loads_by_path(tree, scripts)
    ]
    assert not found, (
        "a benchmark loaded or run by its file (`from benchmarks import NAME`, or `python -m benchmarks.NAME` "
        "in a subprocess): " + ", ".join(found)
    )


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import statement, wherever it stands; `from a import b` names a.b (a module or a
    name of a: the checks below read prefixes)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def test_benchmarks_import_no_test_module():
    helpers = {p.stem for p in TESTS.rglob("*.py")} | {"tests"}
    found = [
        f"{path.relative_to(REPO)}:{line} {name}"
        for path, tree in _sources(BENCHMARKS, SUPPORT).items()
        for line, name in imported_modules(tree)
        if name.split(".")[0] in helpers
    ]
    assert not found, "benchmarks importing the tests (move what both need into testing_support/): " + ", ".join(found)


def benchmark_uses(tree: ast.Module) -> list[int]:
    """Lines that import a module of benchmarks/ or run one (`python -m benchmarks.NAME` in a subprocess)."""
    lines = [line for line, name in imported_modules(tree) if name.split(".")[0] == "benchmarks"]
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)):
            texts = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            lines += [
                node.elts[i + 1].lineno
                for i in range(len(texts) - 1)
                if texts[i] == "-m" and isinstance(texts[i + 1], str) and texts[i + 1].startswith("benchmarks.")
            ]
    return sorted(lines)


def test_only_the_tests_of_benchmarks_use_a_benchmark():
    """A unit test reads what it shares with the benchmarks from testing_support/, never from a benchmark."""
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path, tree in _sources(TESTS).items()
        if BENCHMARK_TESTS not in path.parents
        for line in benchmark_uses(tree)
    ]
    assert not found, (
        "tests outside tests/benchmarks/ that import or run a benchmark (what tests and benchmarks share lives in "
        "testing_support/; a test of a benchmark lives in tests/benchmarks/): " + ", ".join(found)
    )


def stage_internals(tree: ast.Module) -> list[tuple[int, str]]:
    """Imports of a module inside a sweep stage's folder (repro/sweep/stages/<stage>/<module>.py): a benchmark asks
    the stage's package for what it offers (`from repro.sweep.stages.tune import climb`)."""
    folder = REPO / "repro" / "sweep" / "stages"
    found = []
    for line, name in imported_modules(tree):
        parts = name.split(".")
        if parts[:3] == ["repro", "sweep", "stages"] and len(parts) >= 5:
            if (folder / parts[3] / f"{parts[4]}.py").is_file() or (folder / parts[3] / parts[4]).is_dir():
                found.append((line, name))
    return found


def test_benchmarks_import_no_stage_internals():
    found = [
        f"{path.relative_to(REPO)}:{line} {name}"
        for path, tree in _sources(BENCHMARKS).items()
        for line, name in stage_internals(tree)
    ]
    assert not found, (
        "benchmarks importing a module inside a sweep stage's folder (import what the stage's package offers, "
        "its __init__'s names, and add there what a measurement needs): " + ", ".join(found)
    )


def test_testing_support_imports_no_module_of_the_suite():
    found = [
        f"{path.relative_to(REPO)}:{line} {name}"
        for path, tree in _sources(SUPPORT).items()
        for line, name in imported_modules(tree)
        if name.split(".")[0] in ("repro", "analysis", "benchmarks")
    ]
    assert not found, "testing_support/ importing the suite (it stands under what it checks): " + ", ".join(found)


def test_the_checkout_root_is_counted_in_one_module_only():
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path, tree in _sources(REPO / "repro", REPO / "analysis", BENCHMARKS, TESTS).items()
        if path != ROOT_MODULE
        for line in root_counting(tree)
    ]
    assert not found, "folders counted up from __file__ (use repro.checkout.CHECKOUT_ROOT): " + ", ".join(found)
    assert root_counting(ast.parse(ROOT_MODULE.read_text(encoding="utf-8")))  # the one place that counts


def test_the_checks_see_what_they_forbid():
    """Each check fails on the forms this code base once used, and passes the forms it uses now."""
    forbidden = ast.parse(
        "import sys, importlib.util\n"
        "from pathlib import Path\n"
        "ROOT = Path(__file__).resolve().parents[1]\n"
        "sys.path.insert(0, str(ROOT))\n"
        "sys.path[:0] = [str(ROOT / 'tests')]\n"
        "spec = importlib.util.spec_from_file_location('chaos', ROOT / 'benchmarks' / 'chaos.py')\n"
        "HERE = Path(__file__).parent.parent\n"
        "subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'sweep_plan.py')])\n"
        "monkeypatch.syspath_prepend(str(folder))\n"
    )
    assert sys_path_edits(forbidden) == [4, 5, 9]
    assert loads_by_path(forbidden, {"chaos.py", "sweep_plan.py"}) == [6, 6, 8]
    assert root_counting(forbidden) == [3, 7]
    allowed = ast.parse(
        '"""Run as `python benchmarks/chaos.py` no more: `python -m benchmarks.chaos`."""\n'
        "from benchmarks import chaos\n"
        "from repro.checkout import CHECKOUT_ROOT\n"
        "HERE = Path(__file__).parent\n"
        "run_root = rd.path.parents[1]\n"
        "subprocess.run([sys.executable, '-m', 'benchmarks.sweep_plan'], cwd=CHECKOUT_ROOT)\n"
    )
    assert sys_path_edits(allowed) == loads_by_path(allowed, {"chaos.py", "sweep_plan.py"}) == []
    assert root_counting(allowed) == []
    uses = ast.parse(
        "from benchmarks import chaos\n"
        "import benchmarks.sweep_plan\n"
        "subprocess.run([sys.executable, '-m', 'benchmarks.sweep_plan'])\n"
        "assert layer_of('benchmarks.chaos', layers) > top\n"
        "from testing_support.wandb_endpoint import wandb_standin\n"
        "from repro.sweep.stages.tune.halving import climb\n"
        "from repro.sweep.stages.tune import climb, halving\n"
    )
    assert benchmark_uses(uses) == [1, 2, 3]
    internal = [(6, "repro.sweep.stages.tune.halving.climb"), (7, "repro.sweep.stages.tune.halving")]
    assert stage_internals(uses) == internal
