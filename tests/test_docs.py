"""The docs name code that exists: module paths, the API page, the architecture tree."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "cohort"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# `cohort.toml` and `cohort.db` are files, not modules.
DOTTED = re.compile(r"\bcohort(?:\.(?!toml\b|db\b)[A-Za-z_][A-Za-z0-9_]*)+")


@cache
def top_level_names(path: Path) -> frozenset[str]:
    """Names a module defines at top level: defs, classes, assignments, imports."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def resolves(dotted: str) -> bool:
    """True when `cohort.a.b[.name]` is a module of src/cohort, or a name defined in one."""
    parts = dotted.split(".")[1:]
    for cut in range(len(parts), -1, -1):
        base = PACKAGE.joinpath(*parts[:cut])
        module = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if cut == 0:
            module = PACKAGE / "__init__.py"
        if module.exists():
            rest = parts[cut:]
            return not rest or (len(rest) == 1 and rest[0] in top_level_names(module))
    return False


def test_resolves_tells_real_from_stale_paths():
    assert resolves("cohort.scoring.intake.submit")
    assert resolves("cohort.weeks.labquake")
    assert not resolves("cohort.labquake")
    assert not resolves("cohort.kaggle_client")
    assert not resolves("cohort.scoring.intake.no_such_function")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_module_paths_in_the_docs_exist(doc):
    stale = sorted({m for m in DOTTED.findall(doc.read_text()) if not resolves(m)})
    assert stale == [], f"{doc.name} names code that does not exist"


def test_file_paths_in_the_docs_exist():
    pattern = re.compile(r"src/cohort/[A-Za-z0-9_/]+\.py")
    stale = sorted(
        f"{doc.name}: {m}"
        for doc in DOCS
        for m in set(pattern.findall(doc.read_text()))
        if not (REPO / m).exists()
    )
    assert stale == []


def test_every_entry_of_the_api_page_exists():
    text = (REPO / "docs" / "api.md").read_text()
    module, missing = None, []
    for line in text.splitlines():
        if heading := re.fullmatch(r"### `(cohort[\w.]*)`", line):
            module = heading.group(1)
        elif (entry := re.match(r"- `(\w+)(?:\(\))?`:", line)) and module:
            missing += [] if resolves(f"{module}.{entry.group(1)}") else [entry.group(1)]
    assert module is not None
    assert missing == [], "run .venv/bin/python tools/api_page.py"


def test_the_architecture_tree_names_every_subpackage():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages, "no subpackages found"
    missing = [name for name in packages if not re.search(rf"^\s*{name}/", section, re.M)]
    assert missing == []
