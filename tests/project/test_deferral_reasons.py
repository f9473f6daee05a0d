"""A deferral's reason is true. An import inside a function that says `deferred: <library>` defers something: the
module does not load what it imports, nor the library its reason names, at its own import (through another module's
top-level imports, however indirectly), and what it imports does load that library. Read from source; the light entry
points' probes (test_imports_at_top.py) check the same by running them."""

from __future__ import annotations

import ast
import re
from typing import Container, Mapping

from import_graph import SHIPPED, module_files

# The libraries a `deferred:` reason may name (as written, lower case) -> the module that is that library.
LIBRARIES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "inductor": "torch._inductor",
    "wandb": "wandb",
    "matplotlib": "matplotlib",
    "pandas": "pandas",
    "submitit": "submitit",
    "cleanlab": "cleanlab",
    "sklearn": "sklearn",
    "scikit-learn": "sklearn",
    "scipy": "scipy",
    "hydra": "hydra",
    "omegaconf": "omegaconf",
    "mnist1d": "mnist1d",
}


def _dotted_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def _statement_loads(node: ast.Import | ast.ImportFrom, modules: Container[str]) -> set[str]:
    """What an import statement loads: each named module with its parent packages (`from a.b import c` loads a.b.c
    where that is one of `modules`)."""
    if isinstance(node, ast.Import):
        return {p for alias in node.names for p in _dotted_parents(alias.name)}
    source = node.module or ""
    found = _dotted_parents(source)
    return found | {f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules}


def _named(node: ast.Import | ast.ImportFrom, modules: Container[str]) -> set[str]:
    """The modules an import statement names (not their parents): what a deferral defers."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    source = node.module or ""
    return {f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules} or {source}


def _top_level_loads(tree: ast.Module, modules: Container[str]) -> set[str]:
    """What a module's own import runs: its import statements outside functions and `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(_statement_loads(node, modules))
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.Try, ast.With)):
                visit(node.body)

    visit(tree.body)
    return found


def loaded_at_import(names: set[str], tops: Mapping[str, set[str]]) -> set[str]:
    """Every module importing `names` loads, however indirectly (a module of the project through its own top-level
    imports; another package's module as itself)."""
    seen: set[str] = set()
    stack = [p for name in names for p in _dotted_parents(name)]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(tops.get(name, ()))
    return seen


def _reason(lines: list[str], node: ast.Import | ast.ImportFrom) -> str:
    """The `deferred:` reason of an import inside a function (its own lines' comments, or the comment line before
    it), or ""."""
    own = [lines[n - 1] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)]
    before = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
    said = [line[line.index("#") :] for line in own if "#" in line] + ([before] if before.startswith("#") else [])
    text = next((t for t in said if "deferred:" in t), "")
    return text[text.index("deferred:") + len("deferred:") :] if text else ""


def reason_libraries(reason: str) -> set[str]:
    """The libraries a reason names before its first `;` or `(`: "torch, cleanlab; why" names torch and cleanlab."""
    head = re.split(r"[;(]", reason, maxsplit=1)[0]
    return {LIBRARIES[w.lower()] for w in re.findall(r"[A-Za-z][\w.-]*", head) if w.lower() in LIBRARIES}


def false_deferrals(sources: Mapping[str, str]) -> list[str]:
    """`module:line why` for each import inside a function whose `deferred:` reason is false, read from the
    modules' source (`sources`: dotted name -> text): the module already loads at its own import, however
    indirectly, what the deferral names or a library its reason names (a deferral reached through another module),
    or what the deferral imports does not load a library its reason names."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    tops = {name: _top_level_loads(tree, sources) for name, tree in trees.items()}
    found = []
    for module, tree in trees.items():
        lines = sources[module].splitlines()
        at_import = loaded_at_import({module}, tops)
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in (n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))):
                reason = _reason(lines, node)
                if not reason:
                    continue
                named, libraries = _named(node, sources), reason_libraries(reason)
                loads = loaded_at_import(named, tops)
                if named <= at_import:
                    found.append(f"{module}:{node.lineno} defers {sorted(named)}, which the module loads already")
                elif libraries & at_import:
                    found.append(f"{module}:{node.lineno} defers {sorted(libraries & at_import)}, loaded already")
                elif libraries - loads:
                    missing = sorted(libraries - loads)
                    found.append(f"{module}:{node.lineno} says {missing}; {sorted(named)} loads no such")
    return found


def test_every_deferral_defers_what_its_reason_names():
    """A deferral defers something: what it imports is not loaded already when its module is imported (through
    another module's top-level imports, however indirectly), nor is a library its reason names; and what it imports
    loads each library its reason names (read from source here; test_imports_at_top.py's light probes check the
    entry points by running them)."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in module_files(packages=SHIPPED).items()}
    offending = false_deferrals(sources)
    assert not offending, "deferred imports whose reason is not true (move the import to the top, or say why):\n" + (
        "\n".join(offending)
    )


def test_the_deferral_check_sees_a_deferral_reached_through_another_module():
    sources = {
        "pkg": "",
        "pkg.heavy": "import torch\n",
        "pkg.light": "import json\n",
        "pkg.reached": "import pkg.heavy\n\n\ndef f():\n    import torch  # deferred: torch\n",
        "pkg.module_reached": "import pkg.heavy\n\n\ndef f():\n    from pkg.heavy import x  # deferred: pandas\n",
        "pkg.names_none": "def f():\n    from pkg.light import x  # deferred: torch, kept from --help\n",
        "pkg.true": "import pkg.light\n\n\ndef f():\n    # deferred: torch (tensors)\n    from pkg.heavy import x\n",
        "pkg.as_above": "def f():\n    from pkg.heavy import x  # deferred: as above\n",
        "pkg.library_reached": "import pkg.heavy\n\n\ndef f():\n    from pkg.light import x  # deferred: torch\n",
    }
    assert false_deferrals(sources) == [
        "pkg.reached:5 defers ['torch'], which the module loads already",
        "pkg.module_reached:5 defers ['pkg.heavy'], which the module loads already",
        "pkg.names_none:2 says ['torch']; ['pkg.light'] loads no such",
        "pkg.library_reached:5 defers ['torch'], loaded already",
    ]
