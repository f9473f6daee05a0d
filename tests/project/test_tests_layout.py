"""The test tree's own rules (docs/tests.md): test file names are unique across the tree (pytest imports each by its
basename), and a test module imports shared helpers from the top of tests/, never another folder's test module, so
every test file also runs alone (`pytest tests/methods/test_x.py`)."""

from __future__ import annotations

import ast
from collections import Counter

from repo_paths import TESTS


def _test_files():
    return sorted(p for p in TESTS.rglob("test_*.py") if "fixtures" not in p.parts)


def test_test_file_names_are_unique_across_the_tree():
    counts = Counter(p.name for p in _test_files())
    assert not [name for name, n in counts.items() if n > 1]


def test_a_test_module_imports_test_modules_of_its_own_folder_only():
    by_name = {p.stem: p.parent for p in _test_files()}
    wrong = []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name in by_name and by_name[name] != path.parent:
                    wrong.append(f"{path.relative_to(TESTS)} imports {name} from {by_name[name].relative_to(TESTS)}")
    assert not wrong, "move what they share into a helper module at the top of tests/: " + "; ".join(wrong)
