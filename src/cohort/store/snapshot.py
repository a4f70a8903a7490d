"""Whole-store copies for backup and restore: only the tables and columns cohort declares.

A restore never trusts the backed-up database's own schema: rows are read from it with
plain SELECTs of the known columns (no triggers fire on a read; views and extra objects
are never touched) and written into a schema built from the migrations, whose
constraints check every row again on the way in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from cohort.errors import StorageError
from cohort.store import Store, Tx
from cohort.store import revision as store_revision
from cohort.store.tables import DERIVED_TABLES, Base, Submission

# Bookkeeping that each database keeps for itself.
SKIPPED = frozenset({"revision", "alembic_version"}) | DERIVED_TABLES
BATCH = 5000


def _tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def row_counts(tx: Tx) -> dict[str, int]:
    """Rows per known table."""
    from sqlalchemy import func

    return {t.name: int(tx.scalar(select(func.count()).select_from(t)) or 0) for t in _tables()}


def stored_files(tx: Tx) -> set[tuple[str, str]]:
    """(week, file sha256) of every submission that has a file."""
    rows = tx.execute(
        select(Submission.week, Submission.file_sha256).where(Submission.file_sha256 != "")
    )
    return {(str(w), str(s)) for w, s in rows}


def replace_all(source: Store, target: Store) -> dict[str, int]:
    """Replace every known table's rows in `target` with `source`'s, in one transaction.

    The target's revision moves past its old value, so no cached page of the old data
    is served for the new. On any refused row nothing in the target changes."""
    counts: dict[str, int] = {}
    try:
        with source.transaction() as src, target.transaction() as dst:
            live = store_revision.current(dst)
            for table in reversed(_tables()):
                dst.execute(delete(table))
            for table in _tables():
                counts[table.name] = _copy_table(src, dst, table)
            store_revision.advance_past(dst, live)
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc)).split())[:300]
        raise StorageError(
            f"a row of the backup breaks the cohort schema ({reason}); restore another backup."
        ) from None
    return counts


def _copy_table(src: Tx, dst: Tx, table: Any) -> int:
    columns = list(table.columns)
    result = src.execute(select(*columns).order_by(*table.primary_key.columns))
    total = 0
    while batch := result.fetchmany(BATCH):
        dst.execute(
            insert(table), [dict(zip(table.columns.keys(), row, strict=True)) for row in batch]
        )
        total += len(batch)
    return total
