"""`cohort migrate-store`: a season moved SQLite -> Postgres -> SQLite, compared table by table."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort import config
from cohort.cli import app
from cohort.scoring import boards, intake
from cohort.season import contributions
from cohort.sheets.roster import import_roster
from cohort.store import Store, transfer
from cohort.workspace import Cohort
from tests.conftest import write_roster
from tests.store_lanes import fresh_database

IDS = [f"s{i}" for i in range(12)]
AT = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
runner = CliRunner()
COHORT = str(Path(sys.executable).parent / "cohort")


@pytest.fixture
def season(make_cohort) -> Cohort:
    root = make_cohort({"01-reg": {"metric": "mae", "targets": ("target",), "daily_limit": 9}})
    (root / "data/01-reg").mkdir(parents=True)
    pd.DataFrame(
        {"id": IDS, "target": np.arange(12.0), "Usage": ["Public"] * 5 + ["Private"] * 7}
    ).to_csv(root / "data/01-reg/solution.csv", index=False)
    write_roster(root, [("ann", "Ann Lee", "ann@x.org", ""), ("bo", "Bo «Ré»", "", "bok")])
    c = Cohort.open(root, f"sqlite:///{root / 'cohort.db'}")
    import_roster(c.store, root / "members.csv")
    for handle, offset in (("ann", 0.5), ("bo", 1.25), ("ann", 0.25)):
        frame = pd.DataFrame({"id": IDS, "target": np.arange(12.0) + offset})
        intake.submit_bytes(c, handle, "01-reg", frame.to_csv(index=False).encode(), "p.csv", at=AT)
    contributions.add(
        c, "bo", "presented", week_ref="01-reg", actor="org", note="a talk on «dropout»"
    )
    return c


def _board(c: Cohort) -> list[tuple[str, float | None]]:
    return [(r.handle, r.score) for r in boards.leaderboard(c, "01-reg", private=False).rows]


def test_a_season_moves_and_comes_back_identical(
    season: Cohort, any_store_url: str, tmp_path
) -> None:
    target = Store(any_store_url)
    report = transfer.copy_store(season.store, target)
    assert all(r.identical for r in report)
    counts = {r.table: r.rows for r in report}
    assert counts["members"] == 2 and counts["submissions"] == 3 and counts["scores"] == 3
    assert counts["contributions"] == 1
    moved = Cohort.open(season.root, any_store_url)
    assert _board(moved) == _board(season)
    # Ids carried over and the next insert gets a fresh one (sequences moved on).
    frame = pd.DataFrame({"id": IDS, "target": np.arange(12.0)})
    result = intake.submit_bytes(
        moved, "bo", "01-reg", frame.to_csv(index=False).encode(), "q.csv", at=AT
    )
    assert result.submission_id == 4
    back = Store(f"sqlite:///{tmp_path / 'back.db'}")
    assert all(r.identical for r in transfer.copy_store(moved.store, back))
    assert transfer.row_counts(back)["submissions"] == 4


def test_a_target_that_holds_a_season_is_refused(season: Cohort, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    transfer.copy_store(season.store, Store(other))
    before = (
        sqlite3.connect(tmp_path / "other.db").execute("select count(*) from members").fetchone()
    )
    result = runner.invoke(app, ["--root", str(season.root), "migrate-store", "--to", other])
    assert result.exit_code == 1
    rows = transfer.row_counts(Store(other))
    assert result.output == (
        f"Error: The database at {other} already holds a season ({sum(rows.values())} rows in "
        f"{sum(1 for n in rows.values() if n)} tables); point --to at an empty database.\n"
    )
    assert (
        sqlite3.connect(tmp_path / "other.db").execute("select count(*) from members").fetchone()
        == before
    )


def test_text_postgres_cannot_hold_is_named_before_anything_is_written(season: Cohort) -> None:
    # SQLite ignores column lengths and keeps NUL; PostgreSQL refuses both.
    path = season.root / "cohort.db"
    with sqlite3.connect(path) as db:
        db.execute("update members set name = ? where handle = 'ann'", ("A" * 250,))
    with fresh_database() as url:
        result = runner.invoke(app, ["--root", str(season.root), "migrate-store", "--to", url])
        assert result.exit_code == 1
        assert result.output == (
            "Error: Table 'members' row 1 has 250 characters in 'name'; the column holds at "
            "most 200. Shorten it and migrate again.\n"
        )
        assert set(transfer.row_counts(Store(url)).values()) == {0}
        with sqlite3.connect(path) as db:
            db.execute("update members set name = ? where handle = 'ann'", ("Ann\x00Lee",))
        result = runner.invoke(app, ["--root", str(season.root), "migrate-store", "--to", url])
        assert result.output.startswith(
            "Error: Table 'members' row 1 has a NUL character in 'name', which PostgreSQL "
            "cannot store;"
        )


def test_migrating_into_itself_is_refused(season: Cohort) -> None:
    url = season.store.url
    result = runner.invoke(
        app, ["--root", str(season.root), "--db", url, "migrate-store", "--to", url]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: The target is the database the cohort already uses;")


def _cli(root: Path, db: str, *args: str) -> str:
    out = subprocess.run(
        [COHORT, "--root", str(root), "--db", db, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.slow
def test_a_demo_season_on_postgres_gives_the_same_boards_standings_and_selection(
    tmp_path: Path,
) -> None:
    with fresh_database() as url:
        demo = tmp_path / "demo"
        subprocess.run(
            [COHORT, "demo", str(demo)],
            check=True,
            capture_output=True,
        )
        sqlite_url = f"sqlite:///{demo / 'cohort.db'}"
        _cli(demo, sqlite_url, "migrate-store", "--to", url)
        commands = [["standings", "--json"], ["select", "--json"]]
        commands += [["leaderboard", w.id, "--json"] for w in config.load(demo).weeks]
        for args in commands:
            assert json.loads(_cli(demo, url, *args)) == json.loads(
                _cli(demo, sqlite_url, *args)
            ), args


def test_a_database_of_the_first_release_upgrades_with_its_rows(any_store_url: str) -> None:
    # The first release's schema (0001 only) with a member in it, as a season left it.
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from cohort.store import MIGRATIONS
    from cohort.store.tables import Base

    engine = create_engine(any_store_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO members (handle, name, email, kaggle_username, created_at) "
                "VALUES ('ann', 'Ann Lee', '', '', '2026-11-01 10:00:00')"
            )
        )
    engine.dispose()
    store = Store(any_store_url)
    assert set(Base.metadata.tables) <= set(store.table_names())
    assert transfer.row_counts(store)["members"] == 1
    store.dispose()
