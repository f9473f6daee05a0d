"""Imports stand at the top of their module. One inside a function stays only to defer a heavy library from a light
path (`repro --help` must not load torch, a run with `tracker=none` must not load wandb) or to break an import cycle,
and then a comment on its line, or on the line just before it, says which: it contains `deferred:` or `cycle:`
(docs/architecture.md, "Conventions"). A reader who meets an import inside a function reads why it is there."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from import_graph import SHIPPED, module_files
from repo_paths import REPO

REASONS = ("deferred:", "cycle:")


def unexplained_imports(source: str) -> list[int]:
    """Lines of the imports inside a function (at any depth) whose line and the line before carry no comment with
    one of REASONS; a multi-line import may carry it on any of its own lines."""
    lines = source.splitlines()
    found: list[int] = []

    def comment(number: int) -> str:
        line = lines[number - 1] if 1 <= number <= len(lines) else ""
        return line[line.index("#") :] if "#" in line else ""

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                own = range(child.lineno, (child.end_lineno or child.lineno) + 1)
                before = lines[child.lineno - 2].strip() if child.lineno >= 2 else ""
                said = [comment(n) for n in own] + ([before] if before.startswith("#") else [])
                if not any(reason in text for text in said for reason in REASONS):
                    found.append(child.lineno)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(source), False)
    return found


def _sources() -> list[Path]:
    return list(module_files(packages=SHIPPED).values())


def test_every_import_inside_a_function_says_why():
    offending = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _sources()
        for line in unexplained_imports(path.read_text(encoding="utf-8"))
    ]
    assert not offending, (
        "imports inside functions without a `# deferred: <heavy library>` or `# cycle: <module> <-> <module>` "
        "comment; move each to the top of its module, or say why it cannot move:\n" + "\n".join(offending)
    )


def test_the_check_finds_an_unexplained_import_and_accepts_the_explained_ones():
    source = """\
import os


def plain():
    import json

    return json


def heavy():
    import torch  # deferred: torch is heavy for `repro --help`

    return torch


def cyclic():
    # cycle: repro.a <-> repro.b
    from repro.b import thing

    return thing


class Holder:
    def method(self):
        if True:
            from repro.c import (
                other,
            )
        return other
"""
    assert unexplained_imports(source) == [5, 26]
    assert unexplained_imports("import json\n\n\ndef f():\n    return json\n") == []


def _modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement loads: `from a.b import c` loads a.b.c where that is a module of the project
    (a file or a package), else a.b."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not node.module or node.level:
        return []
    found = []
    for alias in node.names:
        dotted = f"{node.module}.{alias.name}"
        path = REPO / dotted.replace(".", "/")
        found.append(dotted if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() else node.module)
    return found


def deferred_imports_of_top_modules(source: str) -> list[int]:
    """Lines of the imports inside a function that say `deferred:` but load a module the file already imports at its
    top: the deferral defers nothing, so its reason is false."""
    tree = ast.parse(source)
    lines = source.splitlines()
    top = {m for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for m in _modules(n)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for child in ast.walk(node):
            if not isinstance(child, (ast.Import, ast.ImportFrom)):
                continue
            said = " ".join(lines[n - 1] for n in range(max(1, child.lineno - 1), (child.end_lineno or 0) + 1))
            if "deferred:" in said and any(m in top for m in _modules(child)):
                found.append(child.lineno)
    return sorted(set(found))


def test_no_deferred_import_of_a_module_already_imported_at_the_top():
    offending = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _sources()
        for line in deferred_imports_of_top_modules(path.read_text(encoding="utf-8"))
    ]
    assert not offending, "imports that defer a module the file imports at its top: move them up:\n" + "\n".join(
        offending
    )
    source = (
        "import torch\nfrom a.b import c\nfrom repro import errors\n\n\ndef f():\n"
        "    from a.b import d  # deferred: heavy\n    from repro import losses  # deferred: torch\n    return d\n"
    )
    assert deferred_imports_of_top_modules(source) == [7]  # repro.losses is another module than repro.errors


# What each light entry point must not load: the deferrals are for these (docs/architecture.md, "Conventions").
HEAVY = ("torch", "torchvision", "wandb", "matplotlib", "pandas", "submitit", "cleanlab", "sklearn", "scipy")
LIGHT = {
    "import repro.runs.rundir": ("import repro.runs.rundir", HEAVY),
    # the label-trajectory readers the ledger uses (repro/labels/__init__.py re-exports the kinds lazily)
    "the label trajectory readers": (
        "from repro.labels.trajectory import read_class_trajectory, read_manifest; "
        "from repro.labels.epoch_records import topk_epochs",
        HEAVY,
    ),
    "repro --help": ("from repro.cli import main; main(['--help'])", HEAVY),
    "repro labels --help": ("from repro.cli import main; main(['labels', '--help'])", HEAVY),
    "repro tables --help": ("from repro.cli import main; main(['tables', '--help'])", HEAVY),
    "repro doctor --help": ("from repro.cli import main; main(['doctor', '--help'])", HEAVY),
    "repro data download --help": ("from repro.cli import main; main(['data', 'download', '--help'])", HEAVY),
    "repro wandb --help": ("from repro.cli import main; main(['wandb', '--help'])", HEAVY),
    # it loads torch (the sweep file's schema), never what runs or submits the runs
    "repro sweep --help": ("from repro.cli import main; main(['sweep', '--help'])", ("submitit", "wandb", "pandas")),
    # the ledger's and the dry run's statistics: scipy.special's t and noncentral t, not scipy.stats' wrappers of them
    "import repro.claims.sequential": (
        "import repro.claims.sequential",
        ("torch", "pandas", "matplotlib", "scipy.stats"),
    ),
    # what `repro tables` and `repro ledger` reach: the table notes and the stage the results index asks
    "the estimated-T records": ("from repro.recorders.transition_check import plan_records, render_records", HEAVY),
    "the lr schedule's arithmetic": (
        "from repro.training.schedule import iteration_based, iteration_lambda, lr_lambda, planned_steps",
        HEAVY,
    ),
    "the tuning stage": ("import repro.sweep.stages.tune.stage", HEAVY),
    # what a plan asks of every method (its declaration; the trainers import torch), an estimated T whose estimator
    # is not finished included: there is nothing to compute before the run
    "the methods' declarations": (
        "from repro.methods import METHODS, method_declaration, method_options\n"
        "        unready = {'transition': 'estimated', 'estimate_at': 'best_val', 'estimator': 'absent'}\n"
        "        for name in METHODS:\n"
        "            d = method_declaration(name)\n"
        "            config = {'method': {'name': name, **unready}, 'output_root': '/nonexistent'}\n"
        "            config.update(split={}, data={}, noise={})\n"
        "            method_options(d), d.step_cost, d.source_option, d.needs_meta_set, d.seeds_may_collapse(config)\n"
        "            d.epoch_eval_images(10, 2, 3), d.estimate_key(config), d.planned_checks(config)",
        HEAVY,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("entry", sorted(LIGHT))
def test_a_light_entry_point_loads_no_heavy_library(entry):
    code, heavy = LIGHT[entry]
    probe = (
        "import contextlib, io, json, sys\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        {code}\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not loaded, f"`{entry}` loads {loaded}: defer the import that pulls it in (`# deferred: ...`)"
