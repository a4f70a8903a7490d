"""Roster maintenance: edit, deactivate/reactivate, re-import naming the missing, list and tokens CSV."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.scoring import boards
from cohort.season import standings
from cohort.sheets import roster
from cohort.workspace import Cohort

from .conftest import write_roster
from .test_standings import build_season

runner = CliRunner()


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def cli(cohort: Cohort, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--root", str(cohort.root), *args])


def test_a_deactivated_member_leaves_boards_standings_and_exports_and_comes_back(
    season: Cohort, tmp_path: Path
) -> None:
    assert "bob" in [r.handle for r in boards.leaderboard(season, "1").rows]
    result = cli(season, "members", "deactivate", "bob", "--actor", "lead")
    assert result.exit_code == 0, result.output
    assert "gone from boards, standings and exports" in result.stdout
    assert "bob" not in [r.handle for r in boards.leaderboard(season, "1").rows]
    assert "bob" not in [r.handle for r in standings.standings(season).rows]
    assert cli(season, "export", str(tmp_path / "s.csv")).exit_code == 0
    assert "bob" not in (tmp_path / "s.csv").read_text()
    # Kept in history: their own submissions and the audit log.
    assert len(boards.member_history(season, "bob", include_private=False)) == 1
    listed = json.loads(cli(season, "members", "list", "--all", "--json").stdout)
    assert {m["handle"]: m["active"] for m in listed}["bob"] is False
    assert "bob" not in cli(season, "members", "list").stdout
    assert cli(season, "members", "reactivate", "bob").exit_code == 0
    assert "bob" in [r.handle for r in standings.standings(season).rows]
    audit = json.loads(cli(season, "audit", "--json").stdout)
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("member_deactivate", "bob") in actions and ("member_reactivate", "bob") in actions


def test_a_deactivated_members_token_signs_nobody_in(season: Cohort) -> None:
    token = roster.issue_tokens(season.store, ["cy"])["cy"]
    roster.set_active(season.store, "cy", False, "lead")
    assert roster.member_for_token(season.store, token) is None
    roster.set_active(season.store, "cy", True, "lead")
    assert roster.member_for_token(season.store, token).handle == "cy"  # type: ignore[union-attr]


def test_edit_changes_the_store_and_members_csv_so_a_reimport_keeps_it(season: Cohort) -> None:
    result = cli(season, "members", "edit", "ann", "--email", "ann@new.example", "--kaggle", "annk")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Member ann: changed email, kaggle_username."
    rows = list(csv.DictReader(io.StringIO((season.root / "members.csv").read_text())))
    assert rows[0]["email"] == "ann@new.example" and rows[1]["email"] == "bob@example.org"
    report = roster.import_roster(season.store, season.root / "members.csv")
    assert report.updated == 0
    ann = next(m for m in roster.list_members(season.store) if m.handle == "ann")
    assert (ann.email, ann.kaggle_username) == ("ann@new.example", "annk")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["zed", "--name", "Zed"], "Error: No member 'zed'; check `cohort members list`.\n"),
        (["ann"], "Error: Nothing to change; pass --name, --email or --kaggle.\n"),
        (
            ["ann", "--email", "not-an-email"],
            "Error: Email 'not-an-email' is not an email address; pass one like ann@example.org.\n",
        ),
    ],
)
def test_a_bad_edit_is_one_error_line_and_changes_nothing(
    season: Cohort, args: list[str], error: str
) -> None:
    before = (season.root / "members.csv").read_text()
    result = cli(season, "members", "edit", *args)
    assert result.exit_code == 1
    assert result.stderr == error
    assert (season.root / "members.csv").read_text() == before


def test_a_reimport_names_the_active_members_the_file_lacks(season: Cohort) -> None:
    write_roster(
        season.root, [("ann", "Ann Lee", "ann@example.org", ""), ("bob", "Bob Ray", "", "")]
    )
    roster.set_active(season.store, "dee", False, "lead")
    result = cli(season, "members", "import", str(season.root / "members.csv"))
    assert result.exit_code == 0, result.output
    assert (
        "1 active member(s) are not in" in result.stderr and ": cy. They were kept" in result.stderr
    )
    assert "cy" in [m.handle for m in roster.list_members(season.store, include_inactive=False)]


def test_members_list_shows_emails_and_flags_a_blank_kaggle_username(season: Cohort) -> None:
    result = runner.invoke(
        app, ["--root", str(season.root), "members", "list"], env={"COLUMNS": "200"}
    )
    assert "ann@example.org" in result.stdout
    assert "(blank: `cohort kaggle collect` cannot find them)" in result.stdout
    assert "3 without a Kaggle username." in result.stdout  # ann has one (build_season)


def test_tokens_csv_is_a_private_mail_merge_file_whose_tokens_sign_in(
    season: Cohort, tmp_path: Path
) -> None:
    out = tmp_path / "tokens.csv"
    result = cli(season, "members", "tokens", "--csv", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["handle"] for r in rows] == ["ann", "bob", "cy", "dee"]
    assert rows[0]["email"] == "ann@example.org" and rows[0]["name"] == "Ann Lee"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert rows[0]["token"] not in result.stdout
    assert roster.member_for_token(season.store, rows[2]["token"]).handle == "cy"  # type: ignore[union-attr]
    again = cli(season, "members", "tokens", "--csv", str(out))
    assert again.exit_code == 1
    assert again.stderr == f"Error: {out} already exists; choose a new file name for the tokens.\n"
    assert roster.member_for_token(season.store, rows[2]["token"]) is not None  # not re-issued
