"""The week at a glance (`cohort status`), `cohort --version`, and the 0004 upgrade of a season."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohort import __version__
from cohort.cli import app
from cohort.scoring import intake
from cohort.season.status import week_status
from cohort.sheets import roster
from cohort.workspace import Cohort

from .test_standings import START, build_season

runner = CliRunner()


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def test_status_lists_who_lacks_a_file_or_a_notebook_with_best_scores_and_flags(
    season: Cohort,
) -> None:
    intake.submit(
        season, "bob", "2", None, "http://example.org/x.ipynb?token=abc", at=START.replace(day=14)
    )
    st = week_status(season, "2")
    assert st.state == "closed" and st.revealed
    rows = st.members.set_index("handle")
    assert rows.loc["ann", "files"] == 1 and rows.loc["ann", "notebook"].startswith("https://")
    assert st.missing_file == ["bob", "cy", "dee"]
    assert st.missing_notebook == ["cy", "dee"]
    assert rows.loc["ann", "public_rank"] == 1
    assert "no Kaggle username" in rows.loc["cy", "flags"]
    assert "link:" in rows.loc["bob", "flags"]  # a suspicious link is flagged
    assert "link:" not in rows.loc["ann", "flags"]  # her own Kaggle kernel


def test_status_flags_a_kaggle_kernel_the_member_does_not_own(season: Cohort) -> None:
    roster.edit_member(season.store, "dee", "lead", kaggle_username="deek")
    link = "https://www.kaggle.com/code/ann/week-2"  # ann's kernel
    intake.submit(season, "dee", "2", None, link, at=START.replace(day=14))
    rows = week_status(season, "2").members.set_index("handle")
    assert (
        "link: the notebook belongs to Kaggle user 'ann', not to you ('deek'); "
        "it earns no on-time credit." in rows.loc["dee", "flags"]
    )


def test_status_cli_shows_the_window_in_the_cohorts_zone_and_as_json(season: Cohort) -> None:
    result = runner.invoke(app, ["--root", str(season.root), "status", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Opens 2026-01-05 00:00 CET, closes 2026-01-12 00:00 CET; private board revealed." in (
        result.stdout
    )
    assert "4 of 4 active members have a file, 0 a notebook link." in result.stdout
    data = json.loads(
        runner.invoke(app, ["--root", str(season.root), "status", "1", "--json"]).stdout
    )
    assert [m["handle"] for m in data["members"]] == ["ann", "bob", "cy", "dee"]
    roster.set_active(season.store, "dee", False, "lead")
    data = json.loads(
        runner.invoke(app, ["--root", str(season.root), "status", "1", "--json"]).stdout
    )
    assert "dee" not in [m["handle"] for m in data["members"]]


def test_status_of_an_unknown_week_is_one_error_line(season: Cohort) -> None:
    result = runner.invoke(app, ["--root", str(season.root), "status", "9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"cohort {__version__} (scorer version ")


@pytest.mark.sqlite_only
def test_a_season_from_before_0004_upgrades_with_its_rows(season: Cohort) -> None:
    from alembic import command
    from alembic.config import Config

    from cohort import rawstore

    db = season.root / "cohort.db"
    # Before 0004 the scores were keyed by submission first, as 0014's downgrade puts back.
    config = Config()
    config.set_main_option("script_location", str(rawstore.MIGRATIONS))
    with season.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    season.store.dispose()
    conn = sqlite3.connect(db)
    # Before 0004 there was no 0010-0013 either (their triggers watch 0004's table).
    triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
    conn.executescript(
        "".join(f"DROP TRIGGER {name};" for name in triggers)
        + "DROP TABLE bulk_score_writes; DROP TABLE derived_cache;"
        "DROP TABLE member_week_revisions; DROP TABLE week_revisions;"
        "DROP TABLE extensions;"
        "ALTER TABLE members DROP COLUMN active;"
        "DELETE FROM alembic_version WHERE version_num IN ('0004', '0010', '0011', '0012', '0013');"
    )
    conn.close()
    upgraded = Cohort.open(season.root)
    assert [m.active for m in roster.list_members(upgraded.store)] == [True] * 4
    assert {"extensions", "week_revisions"} <= set(upgraded.store.table_names())


@pytest.mark.parametrize("width", [80, 120])
def test_wide_tables_fold_to_the_terminal_width(season: Cohort, width: int) -> None:
    for args in (["standings"], ["status", "1"], ["members", "list"], ["audit"]):
        result = runner.invoke(
            app, ["--root", str(season.root), *args], env={"COLUMNS": str(width)}
        )
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.stdout.splitlines()) <= width, args
