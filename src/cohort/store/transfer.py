"""Moving a season between stores (SQLite <-> PostgreSQL), verified table by table.

Every table the schema knows is copied in foreign-key order with its ids, in one
transaction on the target, then both stores are read back in primary-key order and
compared row by row. Text that the target would refuse (over a column's length, or a
NUL character, which PostgreSQL cannot store) is found before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, Table, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from cohort.errors import Conflict, StorageError, ValidationError
from cohort.store import Store
from cohort.store.tables import DERIVED_TABLES, Base

CHUNK = 5000


@dataclass(frozen=True)
class TableCopy:
    """One table moved: how many rows, and whether the read-back matched."""

    table: str
    rows: int
    identical: bool


def tables() -> list[Table]:
    """Every table of the schema, parents before children (not those the database fills
    itself: the target's triggers fill them while the rows are copied)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in DERIVED_TABLES]


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table."""
    with store.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables()
        }


def copy_store(source: Store, target: Store) -> list[TableCopy]:
    """Copy every row of `source` into the empty `target`, then compare every table."""
    if source.url == target.url:
        raise ValidationError(
            "The target is the database the cohort already uses; pass another URL to --to."
        )
    held = {name: n for name, n in row_counts(target).items() if n}
    if held:
        raise Conflict(
            f"The database at {_safe(target.url)} already holds a season "
            f"({sum(held.values())} rows in {len(held)} tables); "
            "point --to at an empty database."
        )
    for table in tables():
        _check_fits(source, table)
    try:
        with source.engine.connect() as src, target.engine.begin() as dst:
            for table in tables():
                for chunk in _chunks(src, table):
                    dst.execute(table.insert(), chunk)
            if target.engine.dialect.name == "postgresql":
                _reset_sequences(dst)
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc)).split())[:300]
        raise StorageError(
            f"Copying into {_safe(target.url)} failed ({reason}); nothing was kept there. "
            "Fix the cause and run migrate-store again."
        ) from None
    report = [
        TableCopy(t.name, n, same)
        for t, (n, same) in ((t, _compare(source, target, t)) for t in tables())
    ]
    bad = [r.table for r in report if not r.identical]
    if bad:
        with target.engine.begin() as dst:  # leave the target as empty as it was found
            for table in reversed(tables()):
                dst.execute(delete(table))
        raise StorageError(
            f"The copy in {_safe(target.url)} differs from the source in table '{bad[0]}'; "
            "its rows were removed again; report this, with the two URLs' database kinds."
        )
    return report


def _chunks(conn: Any, table: Table) -> Iterator[list[dict[str, Any]]]:
    order = list(table.primary_key.columns)
    result = conn.execution_options(stream_results=True).execute(select(table).order_by(*order))
    while rows := result.fetchmany(CHUNK):
        yield [dict(r._mapping) for r in rows]


def _check_fits(source: Store, table: Table) -> None:
    """Refuse text the target cannot hold, naming the row and the fix, before any write."""
    checked = [c for c in table.columns if isinstance(c.type, String)]
    if not checked:
        return
    pk = list(table.primary_key.columns)[0]
    with source.engine.connect() as conn:
        for chunk in _chunks(conn, table):
            for row in chunk:
                for col in checked:
                    value = row[col.name]
                    if not isinstance(value, str):
                        continue
                    if "\x00" in value:
                        raise ValidationError(
                            f"Table '{table.name}' row {row[pk.name]} has a NUL character in "
                            f"'{col.name}', which PostgreSQL cannot store; remove it and migrate again."
                        )
                    limit = getattr(col.type, "length", None)
                    if limit and len(value) > limit:
                        raise ValidationError(
                            f"Table '{table.name}' row {row[pk.name]} has {len(value)} characters in "
                            f"'{col.name}'; the column holds at most {limit}. Shorten it and migrate again."
                        )


def _reset_sequences(conn: Any) -> None:
    # Rows came with their ids; the next insert must not reuse one.
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
            )
        )


def _compare(source: Store, target: Store, table: Table) -> tuple[int, bool]:
    """(rows, identical): both stores read back in primary-key order and compared row by row."""
    n = 0
    with source.engine.connect() as a, target.engine.connect() as b:
        left, right = _chunks(a, table), _chunks(b, table)
        if not all(isinstance(c.type, Integer) for c in table.primary_key.columns):
            # Text keys sort by each database's collation; compare them in one order here.
            x = sorted((_norm(r) for c in left for r in c), key=repr)
            y = sorted((_norm(r) for c in right for r in c), key=repr)
            return len(x), x == y
        while True:
            chunk_a, chunk_b = next(left, None), next(right, None)
            if chunk_a is None or chunk_b is None:
                return n, chunk_a is None and chunk_b is None
            if [_norm(r) for r in chunk_a] != [_norm(r) for r in chunk_b]:
                return n, False
            n += len(chunk_a)


def _norm(row: dict[str, Any]) -> dict[str, Any]:
    return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _safe(url: str) -> str:
    """A URL for messages, its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a message must never fail
        return "the target database"
