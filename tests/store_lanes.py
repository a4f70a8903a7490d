"""The two store lanes: SQLite (a file in tmp_path) and PostgreSQL (a fresh database per test).

`pytest --store=postgres` runs every test with COHORT_DATABASE_URL set to a new, empty
Postgres database, dropped afterwards; the server comes from COHORT_TEST_POSTGRES_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Without a reachable
server those tests skip with the reason, unless COHORT_TEST_REQUIRE_POSTGRES=1 (CI), where
an unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import NullPool, Pool

PG_ENV = "COHORT_TEST_POSTGRES_URL"
REQUIRE_ENV = "COHORT_TEST_REQUIRE_POSTGRES"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

_reachable: dict[str, str] = {}  # server URL -> '' when reachable, else why not


def server_url() -> str:
    """The Postgres server the Postgres lane creates its databases on."""
    return os.environ.get(PG_ENV) or DEFAULT_PG


def _why_unreachable(url: str) -> str:
    if url not in _reachable:
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _reachable[url] = ""
        except Exception as exc:  # noqa: BLE001 - any failure means: no server for this lane
            _reachable[url] = " ".join(str(exc).split())[:200]
    return _reachable[url]


def require_server() -> str:
    """The server URL, or skip (fail under COHORT_TEST_REQUIRE_POSTGRES=1) naming why."""
    url = server_url()
    why = _why_unreachable(url)
    if why:
        message = (
            f"Postgres lane: no server at {url} ({why}); start one and set {PG_ENV}, "
            "or run the SQLite lane"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new empty Postgres database on the lane's server; dropped on exit. Yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(require_server())
    name = f"cohort_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _close_dropped_connections()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_opened: weakref.WeakSet[Any] = weakref.WeakSet()


@event.listens_for(Pool, "connect")
def _track(dbapi_conn: Any, _record: Any) -> None:
    if type(dbapi_conn).__module__.startswith("psycopg"):
        _opened.add(dbapi_conn)


def _close_dropped_connections() -> None:
    """Close every psycopg connection the test's stores opened: left in their pools, they
    would be garbage-collected later, open, as ResourceWarnings in whichever test runs then."""
    for conn in list(_opened):
        if not conn.closed:
            conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database URL on each store: a SQLite file, then a Postgres database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'cohort.db'}"
        return
    with fresh_database() as url:
        yield url
