"""Deadlines: `cohort week set` previews whose credit and which boards change; `cohort extend`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.scoring import boards
from cohort.season import contributions
from cohort.sheets import roster
from cohort.workspace import Cohort, utcnow

from .test_standings import IDS, PREDICTIONS, build_season

runner = CliRunner()


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    cohort = build_season(make_cohort, tmp_path)
    # On-time credit needs the Kaggle link to be the member's own (kaggle.com/code/ann/...).
    roster.edit_member(cohort.store, "ann", "lead", kaggle_username="ann")
    return cohort


def cli(cohort: Cohort, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--root", str(cohort.root), *args])


def on_time(cohort: Cohort, week: str) -> set[str]:
    ev = contributions.events(Cohort.open(cohort.root))
    return set(ev[(ev["kind"] == "on_time_kernel") & (ev["week"] == week)]["handle"])


def board(cohort: Cohort, week: str) -> list[str]:
    return [r.handle for r in boards.leaderboard(Cohort.open(cohort.root), week).rows]


def test_week_set_shows_the_changes_and_applies_nothing_without_yes(season: Cohort) -> None:
    toml = season.root / "weeks" / "02-b" / "week.toml"
    before = toml.read_text()
    assert on_time(season, "02-b") == {"ann"} and board(season, "2") == ["ann"]
    # ann submitted her week-2 notebook and file on 2026-01-13 09:00 UTC; close the week before it.
    result = cli(season, "week", "set", "2", "--closes", "2026-01-13 08:00")
    assert result.exit_code == 0, result.output
    assert "Week 02-b would close 2026-01-13 08:00 CET instead of 2026-01-19 00:00 CET." in (
        result.stdout
    )
    assert "On-time kernel credit: gained by nobody; lost by ann." in result.stdout
    assert "Board entries that stop counting: ann (1)." in result.stdout
    assert "Nothing applied; run again with --yes" in result.stdout
    assert toml.read_text() == before
    assert on_time(season, "02-b") == {"ann"}


def test_week_set_with_yes_moves_the_close_credit_and_board_and_is_audited(
    season: Cohort,
) -> None:
    result = cli(
        season, "week", "set", "2", "--closes", "2026-01-13 08:00", "--yes", "--actor", "lead"
    )
    assert result.exit_code == 0, result.output
    assert (
        "closes = 2026-01-13T08:00:00" in (season.root / "weeks" / "02-b" / "week.toml").read_text()
    )
    fresh = Cohort.open(season.root)
    assert fresh.config.week("2").closes_at.isoformat() == "2026-01-13T08:00:00+01:00"
    assert on_time(season, "02-b") == set()
    assert board(season, "2") == []
    entries = json.loads(cli(season, "audit", "--json", "--action", "week_set").stdout)
    assert entries[0]["actor"] == "lead" and entries[0]["target"] == "02-b"
    # Moving it back restores both.
    assert cli(season, "week", "set", "2", "--closes", "2026-01-19", "--yes").exit_code == 0
    assert on_time(season, "02-b") == {"ann"} and board(season, "2") == ["ann"]


def test_moving_a_closed_week_into_the_future_says_it_hides_the_private_board(
    season: Cohort,
) -> None:
    later = (utcnow() + timedelta(days=3)).astimezone(season.config.tz)
    result = cli(season, "week", "set", "1", "--closes", later.strftime("%Y-%m-%d %H:%M"))
    assert "It hides the private board again until the new close." in result.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["week", "set", "1", "--closes", "next friday"],
            "Error: 'next friday' is not a date or time; write it like 2027-01-20 or "
            "'2027-01-20 18:00' (in Europe/Amsterdam unless you add an offset).\n",
        ),
        (
            ["week", "set", "1", "--closes", "2026-01-01"],
            "Error: Week '01-a' opens 2026-01-05 00:00 CET; the close must come after that.\n",
        ),
        (
            ["extend", "1", "--member", "dee", "--until", "2026-01-10"],
            "Error: 2026-01-10 00:00 CET is not after week '01-a' closes (2026-01-12 00:00 CET); "
            "an extension must give more time.\n",
        ),
        (
            ["extend", "1", "-m", "zed", "--until", "2099-01-10"],
            "Error: No member 'zed'; check `cohort members list` or import the roster.\n",
        ),
    ],
)
def test_bad_deadline_commands_are_one_error_line_and_change_nothing(
    season: Cohort, args: list[str], error: str
) -> None:
    toml = season.root / "weeks" / "01-a" / "week.toml"
    before = toml.read_text()
    logged = json.loads(cli(season, "audit", "--json").stdout)
    result = cli(season, *args)
    assert result.exit_code == 1
    assert result.stderr == error
    assert toml.read_text() == before
    assert json.loads(cli(season, "audit", "--json").stdout) == logged


def test_an_extension_lets_one_member_submit_after_the_close_and_counts(
    season: Cohort, tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "late.csv"
    pd.DataFrame({"id": IDS, "label": PREDICTIONS["ann"]}).to_csv(path, index=False)
    late = cli(season, "submit", "--member", "dee", "--week", "1", str(path))
    assert late.exit_code == 0 and "this is a late submission" in late.output
    until = (utcnow() + timedelta(days=2)).astimezone(season.config.tz)
    # The organizer grants it before week 1 closes (2026-01-12), while the board is hidden.
    granted = season.config.week("1").closes_at - timedelta(days=1)
    monkeypatch.setattr("cohort.scoring.deadlines.utcnow", lambda: granted)
    result = cli(
        season,
        "extend",
        "1",
        "-m",
        "dee",
        "--until",
        until.strftime("%Y-%m-%d %H:%M"),
        "--reason",
        "ill",
        "--actor",
        "lead",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dee may submit to 01-a until ")
    accepted = cli(season, "submit", "--member", "dee", "--week", "1", str(path))
    assert accepted.exit_code == 0, accepted.output
    other = cli(season, "submit", "--member", "cy", "--week", "1", str(path))
    assert other.exit_code == 0 and "this is a late submission" in other.output
    assert board(season, "1")[0] == "ann" and "dee" in board(season, "1")
    entries = json.loads(cli(season, "audit", "--json", "--action", "extend").stdout)
    assert entries[0]["target"] == "01-a/dee" and "ill" in entries[0]["detail"]


def test_an_extension_on_a_revealed_week_is_refused_in_one_line(season: Cohort) -> None:
    # Week 1 closed (so revealed): an extension would show dee the private score of new files.
    logged = json.loads(cli(season, "audit", "--json").stdout)
    result = cli(season, "extend", "1", "-m", "dee", "--until", "2099-01-10")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Week '01-a' is already revealed, so its private scores are public and an "
        "extension would show dee the private score of each new file; accept a late "
        "submission instead (`cohort submit` marks it late).\n"
    )
    assert json.loads(cli(season, "audit", "--json").stdout) == logged
    from cohort.store import extensions as store_ext

    with season.store.transaction() as tx:
        assert store_ext.for_week(tx, "01-a") == {}
