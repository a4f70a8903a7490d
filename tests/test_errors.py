"""Errors by kind: no bare CohortError, AccessDenied where access is refused, and a broken
week's prepare.py named in one line with the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort import errors
from cohort.cli import app
from cohort.errors import AccessDenied, CohortError, ConfigError
from cohort.scoring.boards import leaderboard
from cohort.workspace import Cohort

from .conftest import dedent

REPO = Path(__file__).resolve().parents[1]
BARE = re.compile(r"\bCohortError\(")
runner = CliRunner()


def bare_uses(text: str) -> list[int]:
    """Line numbers that construct a bare CohortError (subclassing it is fine)."""
    return [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if BARE.search(line) and not line.lstrip().startswith("class ")
    ]


def test_bare_uses_sees_raise_and_return_but_not_a_subclass():
    text = 'raise CohortError("x")\nreturn CohortError(\nclass Conflict(CohortError):\n'
    assert bare_uses(text) == [1, 2]


def test_no_bare_cohort_error_in_the_code():
    found = [
        f"{path.relative_to(REPO)}:{n}"
        for folder in ("src", "leaderboard_app")
        for path in sorted((REPO / folder).rglob("*.py"))
        for n in bare_uses(path.read_text())
    ]
    assert found == [], "raise a subclass from cohort/errors.py (Conflict, NotFound, ...)"


def test_every_kind_is_a_cohort_error_with_help():
    kinds = [k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, Exception)]
    assert {"Conflict", "AccessDenied", "StorageError"} <= {k.__name__ for k in kinds}
    assert all(issubclass(k, CohortError) and k.__doc__ for k in kinds)


def test_a_private_board_before_reveal_is_access_denied(make_cohort):
    cohort = Cohort.open(make_cohort({"01-test": {"opens": 0, "closes": 7}}))
    opened = cohort.config.weeks[0].opens_at
    with pytest.raises(AccessDenied, match="hidden until the week is revealed"):
        leaderboard(cohort, "01-test", private=True, now=opened)


GOOD_BASELINE = "def baseline(directory):\n    raise ValueError('not reached')\n"
GOOD_BUILD = "def build(raw, out, seed):\n    raise ValueError('not reached')\n"

BROKEN = {
    "missing build": (GOOD_BASELINE, r"defines no build\(raw, out, seed\); add it"),
    "missing baseline": (GOOD_BUILD, r"defines no baseline\(directory\); add it"),
    "syntax error": (
        GOOD_BUILD + "def baseline(directory)\n    pass\n",
        r"line 3 has a syntax error \(.*\); fix it\.",
    ),
    "import error at the top": (
        "import no_such_package_xyz\n" + GOOD_BUILD + GOOD_BASELINE,
        r"imports 'no_such_package_xyz', which cannot be imported .*; install it",
    ),
    "import error inside build": (
        "def build(raw, out, seed):\n    import no_such_package_xyz\n" + GOOD_BASELINE,
        r"build\(\) in .*prepare\.py imports 'no_such_package_xyz', which cannot be imported",
    ),
    "a typo inside build": (
        "def build(raw, out, seed):\n    return undefined_name\n" + GOOD_BASELINE,
        r"build\(\) in .*prepare\.py is broken \(NameError: .*undefined_name.*\); fix that file\.",
    ),
    "an error on import": (
        "raise RuntimeError('boom')\n",
        r"fails on import \(RuntimeError: boom\); fix that file\.",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_prepare_py_is_one_line_naming_the_file(make_cohort, case):
    source, expected = BROKEN[case]
    root = make_cohort({"01-test": {}})
    prepare_py = root / "weeks" / "01-test" / "prepare.py"
    prepare_py.write_text(dedent(source))
    result = runner.invoke(app, ["--root", str(root), "prepare", "1"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: Week '01-test': ")
    assert str(prepare_py) in lines[0]
    assert re.search(expected, lines[0]), lines[0]
    assert "unexpected" not in lines[0] and "report it" not in lines[0]
    assert not (root / "data" / "01-test").exists()


def test_a_broken_prepare_py_is_a_config_error(make_cohort):
    from cohort.weeks.contract import load_module

    root = make_cohort({"01-test": {}})
    (root / "weeks" / "01-test" / "prepare.py").write_text(GOOD_BASELINE)
    with pytest.raises(ConfigError):
        load_module(Cohort.open(root).config.weeks[0])
