"""The store: the only code that touches SQLAlchemy.

`Store` opens a database URL, applies the Alembic migrations, and hands out
transactions. Query functions live beside it, one module per noun
(`store.members`, `store.submissions`, ...); they take the transaction and return
frozen dataclasses or DataFrames, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import case, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cohort.errors import ConfigError, Conflict, StorageError

# The store's location and schema version, and the SQLite settings, are defined once in
# cohort.rawstore (the driver-level submit path, which must not import SQLAlchemy).
from cohort.rawstore import (  # noqa: F401 - DB_FILE, default_url: the store's API
    DB_FILE,
    ENV_URL,
    MIGRATIONS,
    default_url,
    migration_heads,
    sqlite_pragmas,
)
from cohort.store import guards  # noqa: F401 - text checked before every flush
from cohort.store.tables import Base, Revision

# A transaction handle: callers pass it back to store functions and never use it for SQL.
Tx = Session


WROTE = "cohort_wrote"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT")


def _start_clean(conn: Any) -> None:
    conn.info[WROTE] = False


def _note_writes(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    # Every statement of every transaction passes here, ORM flushes and Core executes alike,
    # so a write cannot forget to bump the revision.
    if statement.lstrip()[:7].upper().startswith(_WRITES):
        conn.info[WROTE] = True


def bump_revision(dialect: str, past: int = 0) -> Any:
    """The statement moving the revision row to max(value, past) + 1 (made on first use).

    One upsert, so two first writes at once cannot both insert the row; a fresh store
    has no row, which keeps it empty for `migrate-store` and `restore`."""
    module: Any
    if dialect == "postgresql":  # imported only there: the PostgreSQL dialect costs ~0.05 s
        from sqlalchemy.dialects import postgresql

        module = postgresql
    else:
        from sqlalchemy.dialects import sqlite

        module = sqlite
    stmt = module.insert(Revision).values(id=1, value=past + 1)
    return stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={"value": case((Revision.value > past, Revision.value), else_=past) + 1},
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the Streamlit app read while `cohort score` writes; foreign keys are off by
    # default; writers queue for the write lock up to 60 s (see rawstore.sqlite_pragmas).
    sqlite_pragmas(dbapi_conn)


class Store:
    """A migrated database and the transactions on it."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConfigError(
                f"Cannot open database URL {url!r} ({exc}); check --db or {ENV_URL}."
            ) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "begin", _start_clean)
        event.listen(self.engine, "before_cursor_execute", _note_writes)
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
        if self._at_heads():
            return
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
            raise Conflict(
                f"The database at {self.url} was written by a newer version of cohort; "
                "upgrade cohort, or restore a backup made with this version."
            ) from None
        except DatabaseError as exc:
            reason = " ".join(str(exc.orig).split())
            raise StorageError(
                f"Cannot open the database at {self.url} ({reason}); check the path, its permissions, "
                "and that it is a cohort database."
            ) from None
        missing = sorted(set(Base.metadata.tables) - set(self.table_names()))
        if missing:
            raise StorageError(
                f"The database at {self.url} has no table '{missing[0]}'; restore a complete backup "
                "or point --db at a new file."
            )

    def _at_heads(self) -> bool:
        """True when the database already stands at every migration head (one query).

        Importing Alembic and running its upgrade check costs ~0.4 s per command; a store
        that is current needs neither. Anything unexpected falls through to the full check."""
        try:
            with self.engine.connect() as conn:
                found = {
                    row[0]
                    for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                }
                if not found or found != migration_heads():
                    return False
                if self.engine.dialect.name != "sqlite":
                    return True
                tables = {
                    row[0]
                    for row in conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                }
        except (SQLAlchemyError, ValueError):
            return False
        return set(Base.metadata.tables) <= tables  # else the full check names what is missing

    def _refuse_foreign(self) -> None:
        # A mistyped --db must not add cohort's tables to another application's database.
        names = set(self.table_names())
        if names and "alembic_version" not in names:
            raise Conflict(
                f"The database at {self.url} holds tables that are not a cohort's "
                f"({', '.join(sorted(names)[:3])}); point --db at a new file or an empty database."
            )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: committed when the block ends, rolled back on any error.

        A transaction that wrote anything also bumps the store's revision (see
        `store.revision`), in the same commit, so a cache keyed on it cannot miss a change.
        """
        session = self._sessions()
        try:
            with session.begin():
                yield session
                session.flush()
                connection = session.connection()
                if connection.info.get(WROTE):
                    connection.execute(bump_revision(connection.dialect.name))
        finally:
            session.close()
        if session.info:  # values a read derived, stored once its connection is back
            from cohort.store import revision

            revision.write_saves(self.engine, session.info)

    def table_names(self) -> list[str]:
        """The tables in the database (for checks and tests)."""
        return sorted(inspect(self.engine).get_table_names())

    def __del__(self) -> None:
        # A store dropped without dispose() still closes its pooled connections cleanly;
        # psycopg warns about a connection garbage-collected while open.
        engine = self.__dict__.get("engine")
        if engine is not None:
            with suppress(Exception):  # nothing to report from a finalizer
                engine.dispose()

    def dispose(self) -> None:
        """Close every pooled connection (before a file is copied or replaced)."""
        self.engine.dispose()
