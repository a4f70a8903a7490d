"""Backup and restore: the same standings and selection after a restore into a fresh database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from cohort.errors import CohortError
from cohort.season import contributions, selection
from cohort.sheets.backup import backup, database_file, restore
from cohort.sheets.roster import list_members
from cohort.workspace import Cohort

from .test_standings import build_season


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    return build_season(make_cohort, tmp_path)


def _fresh(season: Cohort, tmp_path: Path, name: str = "fresh.db") -> Cohort:
    return Cohort.open(season.root, f"sqlite:///{tmp_path / name}")


def test_restore_into_a_fresh_database_gives_identical_standings_and_selection(
    season: Cohort, tmp_path: Path
) -> None:
    before = selection.select(season, top=2)
    selection.freeze(season, "lead", top=2)
    report = backup(season.store, tmp_path / "season.bak")
    assert report.rows["members"] == 4 and report.rows["selection_freezes"] == 1
    fresh = _fresh(season, tmp_path)
    restored = restore(fresh.store, tmp_path / "season.bak")
    assert restored.rows == report.rows
    after = selection.select(fresh, top=2)
    assert after.as_dict() == before.as_dict()
    assert after.standings.inputs == before.standings.inputs
    assert selection.inputs_hash(after.standings.inputs) == selection.frozen(fresh)[0].inputs_sha256
    # The restored database is a working one: new events are recorded as usual.
    contributions.add(fresh, "dee", "attended", week_ref="2")


def test_restore_refuses_a_database_that_has_data_unless_forced(
    season: Cohort, tmp_path: Path
) -> None:
    backup(season.store, tmp_path / "season.bak")
    contributions.add(season, "dee", "attended", week_ref="2")
    with pytest.raises(
        CohortError,
        match=r"^The database .*cohort\.db already holds \d+ rows; restore into a fresh "
        r"database \(--db sqlite:///new\.db\) or pass --force to replace it\.$",
    ):
        restore(season.store, tmp_path / "season.bak")
    assert len(contributions.events(season, "dee", derived=False)) == 2
    restore(season.store, tmp_path / "season.bak", force=True)
    assert len(contributions.events(season, "dee", derived=False)) == 1


def test_backup_does_not_overwrite_a_file_unless_forced(season: Cohort, tmp_path: Path) -> None:
    (tmp_path / "season.bak").write_text("precious")
    with pytest.raises(
        CohortError,
        match=r"season\.bak already exists; choose a new file name or pass --force to replace it\.$",
    ):
        backup(season.store, tmp_path / "season.bak")
    assert (tmp_path / "season.bak").read_text() == "precious"
    backup(season.store, tmp_path / "season.bak", force=True)
    with sqlite3.connect(tmp_path / "season.bak") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def _truncated(path: Path, tmp_path: Path) -> Path:
    data = path.read_bytes()
    broken = tmp_path / "broken.bak"
    broken.write_bytes(data[:100] + b"\x00" * 4096 + data[4196:8192])
    return broken


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda tmp, good: tmp / "missing.bak",
            r"^Backup file .*missing\.bak not found; pass the file `cohort backup` wrote\.$",
        ),
        (
            lambda tmp, good: _write(tmp / "notes.bak", b"hello, not a database"),
            r"^Backup file .*notes\.bak is not a SQLite database; pass the file `cohort backup` wrote\.$",
        ),
        (
            lambda tmp, good: _truncated(good, tmp),
            r"^Backup file .*broken\.bak is corrupt \(.*\); restore an older backup\.$",
        ),
        (
            lambda tmp, good: _other_db(tmp / "other.db"),
            r"^Backup file .*other\.db is not a cohort database \(no 'alembic_version' table\); pass the file `cohort backup` wrote\.$",
        ),
    ],
)
def test_a_missing_or_corrupt_backup_is_one_error_and_changes_nothing(
    season: Cohort, tmp_path: Path, make, message: str
) -> None:
    good = backup(season.store, tmp_path / "good.bak").path
    fresh = _fresh(season, tmp_path)
    with pytest.raises(CohortError, match=message):
        restore(fresh.store, make(tmp_path, good))
    assert list_members(fresh.store) == []  # the fresh database was left as it was


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _other_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
    return path


def test_backups_need_a_sqlite_database() -> None:
    with pytest.raises(
        CohortError,
        match=r"^Backups work on SQLite database files, not a postgresql\+psycopg URL; use pg_dump for PostgreSQL\.$",
    ):
        database_file(SimpleNamespace(url="postgresql+psycopg://u@host/cohort"))  # type: ignore[arg-type]


def _doctored(season: Cohort, tmp_path: Path, sql: str) -> Path:
    """A backup of the season with `sql` applied to it afterwards."""
    path = tmp_path / "doctored.bak"
    backup(season.store, path)
    with sqlite3.connect(path) as conn:
        conn.executescript(sql)
    return path


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "UPDATE alembic_version SET version_num = 'ffff9999';",
            "was written by a newer version of cohort; upgrade cohort, or restore a backup made with this version.",
        ),
        (
            "DROP TABLE scores;",
            "has no table 'scores'; restore a complete backup or point --db at a new file.",
        ),
    ],
)
def test_a_backup_that_cannot_be_restored_leaves_the_database_as_it_was(
    season: Cohort, tmp_path: Path, sql: str, message: str
) -> None:
    bad = _doctored(season, tmp_path, sql)
    live = database_file(season.store)
    before = _dump(live)
    with pytest.raises(CohortError) as err:
        restore(season.store, bad, force=True)
    assert str(err.value).startswith(
        f"Backup file {bad} cannot be restored: The database at sqlite:///"
    )
    assert str(err.value).endswith(message)
    assert _dump(live) == before
    assert len(list_members(Cohort.open(season.root).store)) == 4  # still a working cohort
    assert [p.name for p in live.parent.iterdir() if ".restore." in p.name] == []


def test_a_foreign_database_is_refused_and_left_alone(season: Cohort, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE foo (x INTEGER)")
    with pytest.raises(
        CohortError,
        match=r"^The database at sqlite:///.*other\.db holds tables that are not a "
        r"cohort's \(foo\); point --db at a new file or an empty database\.$",
    ):
        Cohort.open(season.root, f"sqlite:///{other}")
    assert _dump(other) == ["BEGIN TRANSACTION;", "CREATE TABLE foo (x INTEGER);", "COMMIT;"]


def test_a_file_that_is_not_a_database_is_one_line(season: Cohort, tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("shopping list\n" * 200)
    with pytest.raises(CohortError) as err:
        Cohort.open(season.root, f"sqlite:///{text}")
    assert "\n" not in str(err.value)
    assert str(err.value).endswith(
        "(file is not a database); check the path, its permissions, "
        "and that it is a cohort database."
    )


def test_backup_never_overwrites_the_live_database_or_a_non_file(
    season: Cohort, tmp_path: Path
) -> None:
    live = database_file(season.store)
    before = _dump(live)
    with pytest.raises(
        CohortError, match=r"is the live database itself; choose another file for the backup\.$"
    ):
        backup(season.store, live, force=True)
    assert _dump(live) == before
    with pytest.raises(
        CohortError, match=r"is not a regular file; choose a file path for the backup\.$"
    ):
        backup(season.store, tmp_path, force=True)
