"""The store: migrations match the tables, SQLite settings, transactions roll back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from cohort.errors import CohortError
from cohort.store import Store
from cohort.store import members as store_members
from cohort.store.tables import Base
from cohort.workspace import utcnow


def test_migrations_build_exactly_the_tables(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "tables.py and the migrations disagree; run tools/new_migration.py"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrate_twice_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store(url)
    store = Store(url)
    assert "members" in store.table_names()


def test_failed_transaction_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        store_members.upsert(tx, "ann", "Ann", "", "", utcnow())
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert store_members.all_members(tx) == []


def test_bad_url_is_one_clear_error() -> None:
    with pytest.raises(CohortError, match="Cannot open database URL"):
        Store("nosuchdialect://x")


def test_0014_rekeys_scores_by_solution_and_keeps_rows_triggers_and_round_trips(
    tmp_path: Path,
) -> None:
    """Migration 0014 on SQLite rebuilds `scores` keyed (solution, version, submission):
    every row kept, the six counter triggers recreated word for word (and still firing),
    the old layout back on a downgrade."""
    import sqlite3

    from alembic import command
    from alembic.config import Config

    from cohort import rawstore

    db = tmp_path / "c.db"
    store = Store(f"sqlite:///{db}")
    conn = sqlite3.connect(db)
    conn.executescript(
        "INSERT INTO members (id, handle, name, email, kaggle_username, created_at, active) "
        "VALUES (1, 'ann', 'Ann', '', '', '2027-01-01 00:00:00.000000', 1);"
        "INSERT INTO submissions (id, member_id, week, submitted_at, source, notebook_url, "
        "file_sha256, file_name, status, error, selected) VALUES (1, 1, '01-w', "
        "'2027-01-02 00:00:00.000000', 'cli', '', 'f', 'a.csv', 'scored', '', 0);"
        "INSERT INTO scores (submission_id, solution_sha256, scorer_version, public_score, "
        "private_score, scored_at) VALUES (1, 'old', 'v', 0.5, 0.25, '2027-01-02 00:00:00.000000');"
    )
    conn.commit()

    def layout() -> tuple[str, list[str], dict[str, str], list[tuple]]:
        table = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'scores'").fetchone()[0]
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scores' "
            "AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
        triggers = dict(
            conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'scores'"
            ).fetchall()
        )
        rows = conn.execute("SELECT * FROM scores ORDER BY id").fetchall()
        key = table.split("uq_scores_key UNIQUE", 1)[1].split(")", 1)[0].strip(" (")
        return key, [i[0] for i in indexes], triggers, rows

    key, indexes, triggers, rows = layout()
    assert key == "solution_sha256, scorer_version, submission_id"
    assert indexes == ["ix_scores_submission"] and len(triggers) == 6

    config = Config()
    config.set_main_option("script_location", str(rawstore.MIGRATIONS))

    def alembic(step, target: str) -> None:  # noqa: ANN001
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, target)

    alembic(command.downgrade, "0013")
    old_key, old_indexes, old_triggers, old_rows = layout()
    assert old_key == "submission_id, solution_sha256, scorer_version"
    assert old_indexes == ["ix_scores_solution"]
    assert old_triggers == triggers and old_rows == rows
    alembic(command.upgrade, "heads")
    assert layout() == (key, indexes, triggers, rows)
    # A score written outside a bulk batch still bumps the week's counter (the triggers).
    before = conn.execute("SELECT value FROM week_revisions WHERE week = '01-w'").fetchone()
    conn.execute(
        "INSERT INTO scores (submission_id, solution_sha256, scorer_version, public_score, "
        "private_score, scored_at) VALUES (1, 'new', 'v', 0.1, 0.2, '2027-01-03 00:00:00.000000')"
    )
    conn.commit()
    after = conn.execute("SELECT value FROM week_revisions WHERE week = '01-w'").fetchone()
    assert after[0] == (before[0] if before else 0) + 1
    conn.close()
    store.dispose()
