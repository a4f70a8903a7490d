"""The demo: a simulated season, reproducible, live around today or (--finished) ended with the final."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.demo import DEMO_SECRET, MARKER, demo_db_url
from cohort.scoring import boards
from cohort.sheets.roster import member_for_token
from cohort.workspace import Cohort, utcnow
from tests.conftest import FINISHED_DEMO, LIVE_DEMO, copy_demo

runner = CliRunner()
pytestmark = pytest.mark.slow


def standings_json(directory: Path) -> list[dict]:
    result = runner.invoke(
        app, ["--root", str(directory), "--db", demo_db_url(directory), "standings", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def select_json(directory: Path) -> dict:
    result = runner.invoke(
        app, ["--root", str(directory), "--db", demo_db_url(directory), "select", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo_run(demo_builds, tmp_path_factory) -> tuple[Path, str]:
    """`cohort demo --members 24 --seed 7`, run once per session; this module's own copy."""
    return copy_demo(demo_builds, tmp_path_factory, LIVE_DEMO)


def test_the_demo_says_its_members_are_simulated(demo_run) -> None:
    _, output = demo_run
    assert "SIMULATED members" in output
    assert "make app DEMO=1" in output


def entries(directory: Path, week: str) -> int:
    result = runner.invoke(
        app,
        ["--root", str(directory), "--db", demo_db_url(directory), "leaderboard", week, "--json"],
    )
    assert result.exit_code == 0, result.output
    return sum(row["entries"] for row in json.loads(result.stdout)["rows"])


def test_the_live_demo_has_two_revealed_weeks_one_open_and_one_to_come(demo_run) -> None:
    directory, _ = demo_run
    cohort = Cohort.open(directory, demo_db_url(directory))
    now = utcnow()
    first, second, third, fourth = cohort.config.season_weeks
    assert first.is_closed(now) and second.is_closed(now)
    assert boards.is_revealed(cohort, first.id) and boards.is_revealed(cohort, second.id)
    assert third.opens_at <= now < third.closes_at and not boards.is_revealed(cohort, third.id)
    assert now < fourth.opens_at
    assert entries(directory, third.id) > 0  # the open week's public board has entries
    assert entries(directory, fourth.id) == 0
    assert entries(directory, "05-lanl-final") == 0


def test_the_live_demo_prints_a_token_that_signs_a_member_in(demo_run) -> None:
    directory, output = demo_run
    line = next(x for x in output.splitlines() if x.startswith("Demo token"))
    token = line.split(": ", 1)[1].split(" ", 1)[0]
    member = member_for_token(Cohort.open(directory, demo_db_url(directory)).store, token)
    assert member is not None and f"(member {member.handle})" in line


def test_the_finished_demo_ends_with_the_final_of_the_selected(
    demo_builds, tmp_path_factory
) -> None:
    directory, output = copy_demo(demo_builds, tmp_path_factory, FINISHED_DEMO)
    cohort = Cohort.open(directory, demo_db_url(directory))
    assert all(w.is_closed(utcnow()) for w in cohort.config.season_weeks)
    assert entries(directory, "05-lanl-final") > 0
    assert "05-lanl-final: the 8 selected members made" in output


def test_the_demo_selects_exactly_eight_members(demo_run) -> None:
    directory, _ = demo_run
    assert len(select_json(directory)["selected"]) == 8


def test_the_demo_prints_every_week_and_the_final(demo_run) -> None:
    directory, output = demo_run
    for week in ("01-pets", "02-regularization", "03-sequences", "04-optimizers", "05-lanl-final"):
        assert week in output
        assert (directory / "data" / week / "solution.csv").is_file()


def test_a_second_demo_gives_the_same_standings(demo_run, tmp_path: Path) -> None:
    directory, _ = demo_run
    first = standings_json(directory)
    again = tmp_path / "again"
    result = runner.invoke(app, ["demo", str(again), "--members", "24", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert standings_json(again) == first
    # The demo's hidden data derives from its fixed secret, not a random one per machine.
    assert (again / "data" / ".cohort-secret").read_text().strip() == DEMO_SECRET
    for solution in sorted((directory / "data").glob("*/solution.csv")):
        assert (again / solution.relative_to(directory)).read_bytes() == solution.read_bytes()


def test_the_demo_never_replaces_a_directory_it_did_not_build(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    result = runner.invoke(app, ["demo", str(precious)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {precious} exists and is not a demo cohort; choose another directory.\n"
    )
    assert (precious / "chapter1.tex").read_text() == "years of work"
    assert not (precious / MARKER).exists()
