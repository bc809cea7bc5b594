"""The layering the design states, checked over the source: the fast read path is entered
only through its package's door, and each layer imports only what it may."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("graph", "resolvers", "store", "ownership", "bench")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in a file, ``from a import b`` as ``a.b``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_fast_path_is_entered_only_through_its_door() -> None:
    inside = ROOT / "graph" / "fast"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _sources()
        if inside not in path.parents
        for line, module in _imports(path)
        if module.startswith("graph.fast.")
        and module.split(".")[2] in {p.stem for p in inside.glob("*.py")}
    ]
    assert offenders == [], "import from graph.fast (its __init__) only:\n" + "\n".join(offenders)


def test_layers_import_one_way() -> None:
    forbidden = {
        "store": ("strawberry", "graph", "resolvers"),
        "resolvers": ("strawberry", "graph", "pymongo", "motor", "mongomock"),
        "graph": ("pymongo", "motor", "mongomock"),
    }
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for layer, banned in forbidden.items()
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, module in _imports(path)
        if module.split(".")[0] in banned
    ]
    assert offenders == [], "\n".join(offenders)


def test_mongo_operators_stay_in_the_store() -> None:
    """resolvers/ states rules and rights; how they are asked of MongoDB is store/'s."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value}"
        for path in sorted((ROOT / "resolvers").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and len(node.value) > 1
        and node.value[0] == "$"
        and node.value[1].isalpha()
    ]
    assert offenders == [], "\n".join(offenders)


def test_private_names_stay_in_their_module() -> None:
    """``from x import _name`` across modules reaches into another module's privates."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name} from {node.module}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert offenders == [], "\n".join(offenders)
