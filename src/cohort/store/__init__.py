"""The store: the only code that touches SQLAlchemy.

`Store` opens a database URL, applies the Alembic migrations, and hands out
transactions. Query functions live beside it, one module per noun
(`store.members`, `store.submissions`, ...); they take the transaction and return
frozen dataclasses or DataFrames, never ORM rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cohort.errors import CohortError
from cohort.store.tables import Base

DB_FILE = "cohort.db"
ENV_URL = "COHORT_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# A transaction handle: callers pass it back to store functions and never use it for SQL.
Tx = Session


def default_url(root: Path) -> str:
    """COHORT_DATABASE_URL if set, else the SQLite file cohort.db at the cohort root."""
    return os.environ.get(ENV_URL) or f"sqlite:///{(root / DB_FILE).resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the Streamlit app read while `cohort score` writes; foreign keys are off by default.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Store:
    """A migrated database and the transactions on it."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise CohortError(
                f"Cannot open database URL {url!r} ({exc}); check --db or {ENV_URL}."
            ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    @classmethod
    def open(cls, root: Path, url: str | None = None) -> Store:
        """Open the cohort's store: `url`, else COHORT_DATABASE_URL, else <root>/cohort.db."""
        return cls(url or default_url(root))

    def migrate(self) -> None:
        """Bring the schema to the newest migration; a no-op when it is current.

        Refuses, leaving the database untouched, one that holds another application's
        tables or was written by a newer cohort, and one left incomplete afterwards."""
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            self._refuse_foreign()
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        except CommandError:
            raise CohortError(
                f"The database at {self.url} was written by a newer version of cohort; "
                "upgrade cohort, or restore a backup made with this version."
            ) from None
        except DatabaseError as exc:
            reason = " ".join(str(exc.orig).split())
            raise CohortError(
                f"Cannot open the database at {self.url} ({reason}); check the path, its permissions, "
                "and that it is a cohort database."
            ) from None
        missing = sorted(set(Base.metadata.tables) - set(self.table_names()))
        if missing:
            raise CohortError(
                f"The database at {self.url} has no table '{missing[0]}'; restore a complete backup "
                "or point --db at a new file."
            )

    def _refuse_foreign(self) -> None:
        # A mistyped --db must not add cohort's tables to another application's database.
        names = set(self.table_names())
        if names and "alembic_version" not in names:
            raise CohortError(
                f"The database at {self.url} holds tables that are not a cohort's "
                f"({', '.join(sorted(names)[:3])}); point --db at a new file or an empty database."
            )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: committed when the block ends, rolled back on any error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def table_names(self) -> list[str]:
        """The tables in the database (for checks and tests)."""
        return sorted(inspect(self.engine).get_table_names())

    def dispose(self) -> None:
        """Close every pooled connection (before a file is copied or replaced)."""
        self.engine.dispose()
