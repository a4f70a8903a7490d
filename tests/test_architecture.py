"""The layout's rules, checked on the source: imports go one way, without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "cohort"


def module_name(path: Path) -> str:
    """cohort.store.members for src/cohort/store/members.py; cohort.store for its __init__."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, here: str, is_package: bool) -> set[str]:
    """Every cohort module this code imports, at module level or inside functions.

    `from cohort.store import members` names the module cohort.store.members when there is
    one, else the package cohort.store. Imports under `if TYPE_CHECKING:` never run and do
    not count.
    """
    found: set[str] = set()
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return {name for name in found if name == "cohort" or name.startswith("cohort.")}


def import_graph() -> dict[str, set[str]]:
    """Module -> the cohort modules it makes Python execute (their parent packages included).

    Importing cohort.store.members runs cohort/store/__init__.py first, so that is an edge
    too, except from inside the package itself (a module is part of its own package). A
    package's __init__ importing its own modules assembles the package (cohort.cli registers
    its command modules that way) and is no dependency; a module importing its package's
    __init__ is one.
    """
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges: set[str] = set()
        for target in imported_names(tree, name, path.name == "__init__.py"):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                step = ".".join(parts[:i])
                inside = name == step or name.startswith(step + ".")
                if step in MODULES and not (inside and step != target):
                    edges.add(step)
        edges.discard(name)
        if path.name == "__init__.py":
            edges = {e for e in edges if not e.startswith(name + ".")}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # cli commands import the core inside their functions; those count.
    assert any(t.startswith("cohort.scoring.") for t in graph["cohort.cli.scoring"])
    assert "cohort.errors" in graph["cohort.config"]


def test_a_module_importing_its_package_init_is_an_edge():
    # cohort.cli.scoring uses `from cohort.cli import app`: it needs the package's __init__.
    assert "cohort.cli" in import_graph()["cohort.cli.scoring"]


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_core_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


FOUNDATION = {"cohort", "cohort.config", "cohort.errors"}


@pytest.mark.parametrize(
    ("layer", "may_not_import"),
    [
        (
            "cohort.store",
            (
                "cohort.scoring",
                "cohort.season",
                "cohort.weeks",
                "cohort.kaggle",
                "cohort.sheets",
                "cohort.cli",
                "cohort.workspace",
            ),
        ),
        ("cohort.scoring", ("cohort.cli", "cohort.kaggle", "cohort.sheets")),
        ("cohort.season", ("cohort.cli", "cohort.kaggle")),
        ("cohort.weeks", ("cohort.cli",)),
        ("cohort.kaggle", ("cohort.cli",)),
        ("cohort.sheets", ("cohort.cli",)),
    ],
)
def test_imports_go_down(layer, may_not_import):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module == layer or module.startswith(layer + ".")
        for target in targets
        if any(target == up or target.startswith(up + ".") for up in may_not_import)
    )
    assert wrong == []
