"""The CLI as a user meets it: one Error line, no traceback, nothing stored on bad input."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from cohort.cli import app

from .conftest import write_roster

runner = CliRunner()
HEAVY = (
    "pandas",
    "numpy",
    "sklearn",
    "torch",
    "fastai",
    "kaggle",
    "streamlit",
    "sqlalchemy",
    "scipy",
)


def dump(db: Path) -> list[str]:
    """Every row of every table, to compare a database before and after a command."""
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def invoke(root: Path, *args: str):
    return runner.invoke(app, ["--root", str(root), *args])


@pytest.fixture
def cohort_root(make_cohort) -> Path:
    root = make_cohort({"01-a": {}})
    write_roster(root, [("ann", "Ann", "ann@example.org", "anna"), ("bo", "Bo", "", "")])
    assert invoke(root, "members", "import", str(root / "members.csv")).exit_code == 0
    return root


@pytest.mark.parametrize("args", [["--help"], ["submit", "--help"]])
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cohort.cli import app\n"
        f"r = CliRunner().invoke(app, {args!r})\nassert r.exit_code == 0, r.output\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_command_and_option_has_help_text() -> None:
    def walk(cmd, path: str) -> list[str]:
        missing = [] if (cmd.help or cmd.short_help) else [path]
        for param in cmd.params:
            if isinstance(param, TyperOption) and not param.help and param.name != "help":
                missing.append(f"{path} --{param.name}")
            if isinstance(param, TyperArgument) and not getattr(param, "help", None):
                missing.append(f"{path} {param.name}")
        if isinstance(cmd, TyperGroup):
            for name, sub in cmd.commands.items():
                missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(get_command(app), "cohort") == []


def test_members_list_as_json(cohort_root: Path) -> None:
    result = invoke(cohort_root, "members", "list", "--json")
    assert result.exit_code == 0
    assert [m["handle"] for m in json.loads(result.stdout)] == ["ann", "bo"]
    # The CLI is the organizer's: it lists emails (issue 13); the app never shows them.
    assert all("email" in m for m in json.loads(result.stdout))


def test_malformed_members_csv_is_one_error_line_and_changes_nothing(cohort_root: Path) -> None:
    before = dump(cohort_root / "cohort.db")
    bad = cohort_root / "bad.csv"
    bad.write_text("handle,name\nann,Ann Changed\n,Nobody\n")
    result = invoke(cohort_root, "members", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert "line 3: handle is empty" in result.stderr
    assert "Traceback" not in result.output
    assert dump(cohort_root / "cohort.db") == before


def test_malformed_cohort_toml_is_one_error_line_and_changes_nothing(cohort_root: Path) -> None:
    before = dump(cohort_root / "cohort.db")
    toml = cohort_root / "cohort.toml"
    toml.write_text(toml.read_text().replace("final_size = 8", "final_size = -3"))
    result = invoke(cohort_root, "members", "import", str(cohort_root / "members.csv"))
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {toml}: key 'final_size' is -3; use a positive number of members.\n"
    )
    assert dump(cohort_root / "cohort.db") == before


def test_an_unknown_week_is_one_error_line_and_changes_nothing(
    cohort_root: Path, tmp_path: Path
) -> None:
    before = dump(cohort_root / "cohort.db")
    file = tmp_path / "p.csv"
    file.write_text("id,label\n1,a\n")
    result = invoke(cohort_root, "submit", "--member", "ann", "--week", "9", str(file))
    assert result.exit_code == 1
    assert result.stderr == "Error: No week '9' in this cohort; use one of: 01-a.\n"
    assert dump(cohort_root / "cohort.db") == before


def test_no_cohort_here_says_how_to_make_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--root", str(tmp_path), "members", "list"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: No cohort.toml in {tmp_path} or its parents; run `cohort init` or pass --root.\n"
    )


def test_init_creates_a_cohort_that_loads(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "club"), "--name", "AI Club"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "club" / "weeks" / "01-pets" / "week.toml").is_file()
    assert 'name = "AI Club"' in (tmp_path / "club" / "cohort.toml").read_text()
    again = runner.invoke(app, ["init", str(tmp_path / "club")])
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_init_on_a_file_is_one_error_line_and_leaves_the_file(tmp_path: Path) -> None:
    file = tmp_path / "hostname"
    file.write_text("box\n")
    result = runner.invoke(app, ["init", str(file)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {file} is a file, not a directory; choose a new or empty directory for the cohort.\n"
    )
    assert file.read_text() == "box\n"


def test_init_under_a_file_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "hostname").write_text("box\n")
    target = tmp_path / "hostname" / "club"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Cannot create the cohort in {target} (Not a directory); choose a directory you can write to.\n"
    )


def test_init_where_it_may_not_write_is_one_error_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    import shutil

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(shutil, "copytree", denied)
    target = tmp_path / "club"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Cannot create the cohort in {target} (Permission denied); choose a directory you can write to.\n"
    )
    assert not target.exists()


def _refused(root: Path, args: list[str], message: str) -> None:
    """The command exits 1 with exactly one Error line and leaves the database as it was."""
    before = dump(root / "cohort.db")
    result = invoke(root, *args)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output
    assert dump(root / "cohort.db") == before


def test_a_correction_of_another_members_event_is_one_error_line(cohort_root: Path) -> None:
    assert (
        invoke(
            cohort_root, "contrib", "add", "--member", "ann", "--kind", "attended", "--week", "1"
        ).exit_code
        == 0
    )
    _refused(
        cohort_root,
        ["contrib", "add", "--member", "bo", "--kind", "helped", "--supersedes", "1"],
        "Contribution event #1 has member 'ann', kind 'attended' and week '01-a', not member 'bo', "
        "kind 'helped' and no week; a correction must have the same member, kind and week as the event "
        "it supersedes (see `cohort contrib list`).",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e308", "1e+308 for 'helped' is too large"),
        ("inf", "inf for 'helped' is not a finite number"),
    ],
)
def test_an_absurd_contribution_value_is_one_error_line(
    cohort_root: Path, value: str, problem: str
) -> None:
    _refused(
        cohort_root,
        ["contrib", "add", "--member", "ann", "--kind", "helped", "--value", value],
        f"Contribution value {problem}; use a number from 0 to 1000.",
    )


def test_an_override_without_scores_is_one_error_line(cohort_root: Path) -> None:
    from datetime import UTC, datetime

    from cohort.scoring import intake
    from cohort.workspace import Cohort

    intake.submit(
        Cohort.open(cohort_root),
        "ann",
        "1",
        None,
        "https://www.kaggle.com/code/ann/week-a",
        at=datetime(2027, 1, 12, 12, tzinfo=UTC),
    )
    _refused(
        cohort_root,
        ["override-score", "1", "--reason", "typo"],
        "Override of submission 1 sets no score; pass --public, --private or both.",
    )
    _refused(
        cohort_root,
        ["override-score", "1", "--reason", "typo", "--public", "nan"],
        "Override of submission 1: --public nan is not a finite number; "
        "pass the corrected score as an ordinary number.",
    )
    _refused(
        cohort_root,
        ["override-score", "2", "--reason", "typo", "--public", "0.5"],
        "No submission 2; see `cohort leaderboard` or the member's history.",
    )


def test_a_directory_as_the_roster_is_one_error_line(cohort_root: Path, tmp_path: Path) -> None:
    _refused(
        cohort_root,
        ["members", "import", str(tmp_path)],
        f"{tmp_path} is a directory; pass the CSV file.",
    )


def test_a_nan_formula_weight_is_one_error_line_not_invalid_json(cohort_root: Path) -> None:
    toml = cohort_root / "cohort.toml"
    toml.write_text(toml.read_text() + "\n[formula]\nperformance_weight = nan\n")
    _refused(
        cohort_root,
        ["select", "--json"],
        f"{toml}: key 'formula.performance_weight' is nan, not a finite number; use an ordinary number.",
    )
