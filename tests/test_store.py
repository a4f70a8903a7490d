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
