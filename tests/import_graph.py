"""The project's import graph, read from source with `ast` (nothing is imported), and the layer order that
docs/architecture.md declares. tests/project/test_layers.py checks one against the other.

Why read source instead of sys.modules: 145 of the project's imports once sat inside functions or under
`if TYPE_CHECKING:`, where an import-time check never sees them. Every `import` / `from ... import` statement in a
module counts, wherever it stands."""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from repo_paths import REPO

PACKAGES = ("repro", "analysis", "testing_support", "benchmarks")
# The packages a user installs (the import conventions hold for them; the benchmarks and the tests' helpers are not
# installed).
SHIPPED = ("repro", "analysis")
LAYER_HEADING = "## Layers"


def module_files(repo: Path = REPO, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of `packages` (the project's, by default)."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((repo / package).rglob("*.py")):
            parts = list(path.relative_to(repo).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(module: str, modules: dict[str, Path]) -> bool:
    return modules[module].name == "__init__.py"


def _absolute(node: ast.ImportFrom, module: str, modules: dict[str, Path]) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if _is_package(module, modules) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _project_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module `name` names (an attribute path such as repro.meta.label_meta_gradient names
    repro.meta)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, modules: dict[str, Path]) -> dict[str, int]:
    """Project modules `module` imports -> line of the first such import; function-level and TYPE_CHECKING
    imports included (ast.walk visits every statement)."""
    tree = ast.parse(modules[module].read_text(encoding="utf-8"), filename=str(modules[module]))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, modules)
            # `from pkg import sub` imports the submodule pkg.sub; `from mod import name` imports mod.
            names = [f"{source}.{alias.name}" for alias in node.names if alias.name != "*"] or [source]
        for name in names:
            target = _project_module(name, modules)
            if target is not None and target != module:
                found.setdefault(target, node.lineno)
    return found


def import_graph(repo: Path = REPO) -> dict[str, dict[str, int]]:
    modules = module_files(repo)
    return {module: imports_of(module, modules) for module in modules}


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


@dataclass(frozen=True)
class Layer:
    name: str
    patterns: tuple[str, ...]  # dotted module names; `pkg.*` means the package and every module under it


def read_layers(doc: Path = REPO / "docs" / "architecture.md") -> list[Layer]:
    """The layer order of docs/architecture.md: the first fenced block under its "## Layers" heading, one layer a
    line, ground first, `name: pattern, pattern`."""
    text = doc.read_text(encoding="utf-8")
    heading = re.search(rf"^{re.escape(LAYER_HEADING)}$", text, re.M)
    assert heading, f"{doc}: no {LAYER_HEADING!r} heading"
    section = text[heading.end() :]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert block, f"{doc}: no fenced block of layers under {LAYER_HEADING!r}"
    layers = []
    for line in block.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, patterns = line.partition(":")
            layers.append(Layer(name.strip(), tuple(p.strip() for p in patterns.split(",") if p.strip())))
    return layers


def _matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        package = pattern[:-2]
        return module == package or module.startswith(package + ".")
    return fnmatch.fnmatchcase(module, pattern)


def layer_of(module: str, layers: list[Layer]) -> int | None:
    """Index of the layer whose most specific pattern names `module` (repro.* loses to repro.data.*)."""
    best: tuple[int, int] | None = None  # (specificity, layer index)
    for position, layer in enumerate(layers):
        for pattern in layer.patterns:
            if _matches(module, pattern):
                specificity = len(pattern.rstrip(".*"))
                if best is None or specificity > best[0]:
                    best = (specificity, position)
    return None if best is None else best[1]
