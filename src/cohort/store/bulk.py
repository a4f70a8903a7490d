"""Fast bulk loads: one executemany per table, for benchmarks and large imports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select

from cohort.store import Tx
from cohort.store.tables import (
    Contribution,
    Extension,
    Member,
    Score,
    ScoreOverride,
    Submission,
)


def insert_rows(tx: Tx, table: str, rows: Sequence[dict[str, Any]]) -> int:
    """Insert many rows into one table with a single executemany; returns the count.

    A Core insert on the Table (not the mapped class): the ORM's bulk-insert bookkeeping
    doubled the time of loading a benchmark season."""
    model = _TABLES[table]
    if rows:
        tx.connection().execute(insert(model.__table__), list(rows))
    return len(rows)


def max_id(tx: Tx, table: str) -> int:
    """The largest id in a table (0 when empty), to number bulk rows."""
    return int(tx.scalar(select(func.max(_TABLES[table].id))) or 0)


_TABLES: dict[str, Any] = {
    "members": Member,
    "submissions": Submission,
    "scores": Score,
    "contributions": Contribution,
    "score_overrides": ScoreOverride,
    "extensions": Extension,
}


def member_ids(tx: Tx) -> list[int]:
    """Every member's id, in id order."""
    return [int(i) for i in tx.scalars(select(Member.id).order_by(Member.id))]
