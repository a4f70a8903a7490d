"""Queries on scores, score overrides, and a week's reveal and scoring state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_

from cohort.rawstore import (
    RESCORE_FINISHED,
    RESCORE_STARTED,
    score_params,
    sqlite_time,
    write_scores_sqlite,
)
from cohort.store import WROTE, Tx
from cohort.store.tables import AuditEntry, Score, ScoreOverride, Submission, WeekState


def upsert_many(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Write scores keyed by (submission, solution sha, scorer version), replacing equal keys."""
    if not rows:
        return
    dialect = tx.get_bind().dialect.name
    if dialect == "sqlite":
        # The driver's executemany on tuples: SQLAlchemy's per-row parameter processing
        # (a dict and a datetime conversion per score) was most of the Python time of a
        # 20,000-score metric-fix rescore. The statements, the stored time's text and the
        # counters' bumps (migration 0013) are rawstore's, as the driver path writes them.
        params = score_params(rows, sqlite_time)
        # The DB-API connection of this session's transaction: its cursor writes inside it,
        # past the hook that notes writes, so the write is noted here (the revision bump).
        connection = tx.connection()
        connection.info[WROTE] = True
        cur = connection.connection.cursor()
        try:
            write_scores_sqlite(cur, params)
        finally:
            cur.close()
        return
    if dialect == "postgresql":
        module = _insert_dialect(dialect)
        # The Table, not the mapped class: a Core executemany, without the ORM's bulk-insert
        # bookkeeping (two thirds of the time of a 20,000-score metric-fix rescore).
        stmt = module.insert(Score.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["submission_id", "solution_sha256", "scorer_version"],
            set_={c: stmt.excluded[c] for c in ("public_score", "private_score", "scored_at")},
        )
        tx.connection().execute(stmt, rows)
        return
    keys = [(r["submission_id"], r["solution_sha256"], r["scorer_version"]) for r in rows]
    for start in range(0, len(keys), 500):  # stay under bound-parameter limits
        tx.execute(
            delete(Score).where(
                tuple_(Score.submission_id, Score.solution_sha256, Score.scorer_version).in_(
                    keys[start : start + 500]
                )
            )
        )
    tx.execute(insert(Score), rows)


def week_has_scores(tx: Tx, week: str) -> bool:
    """True when any submission of the week has a score."""
    stmt = (
        select(Score.id)
        .join(Submission, Submission.id == Score.submission_id)
        .where(Submission.week == week)
    )
    return tx.scalar(stmt.limit(1)) is not None


def add_override(
    tx: Tx,
    submission_id: int,
    public: float | None,
    private: float | None,
    reason: str,
    actor: str,
    at: datetime,
) -> None:
    """Record an organizer's score correction; the latest one wins."""
    tx.add(
        ScoreOverride(
            submission_id=submission_id,
            public_score=public,
            private_score=private,
            reason=reason,
            created_by=actor,
            created_at=at,
        )
    )


def _state(tx: Tx, week: str) -> WeekState:
    row = tx.get(WeekState, week)
    if row is None:
        dialect = tx.get_bind().dialect.name
        if dialect not in ("sqlite", "postgresql"):
            row = WeekState(week=week, revealed_by="", solution_sha256="")
            tx.add(row)
            return row
        # Two first intakes of a week (different members) may both find no row: insert it
        # only if absent, so neither fails on the primary key (PostgreSQL runs them at once).
        module = _insert_dialect(dialect)
        tx.execute(
            module.insert(WeekState)
            .values(week=week, revealed_by="", solution_sha256="")
            .on_conflict_do_nothing()
        )
        row = tx.get(WeekState, week)
        assert row is not None
    return row


def revealed_at(tx: Tx, week: str) -> datetime | None:
    """When the week was revealed explicitly, if it was."""
    row = tx.get(WeekState, week)
    return None if row is None else row.revealed_at


def set_revealed(tx: Tx, week: str, at: datetime, actor: str) -> None:
    """Mark the week revealed now (private scores become visible)."""
    row = _state(tx, week)
    row.revealed_at, row.revealed_by = at, actor


def scored_sha(tx: Tx, week: str) -> str:
    """The solution sha the week's complete set of scores belongs to ('' before any)."""
    row = tx.get(WeekState, week)
    return "" if row is None else row.solution_sha256


def set_scored_sha(tx: Tx, week: str, sha: str) -> None:
    """Switch the week's leaderboard to the scores of this solution sha."""
    _state(tx, week).solution_sha256 = sha


def open_rescore(tx: Tx) -> datetime | None:
    """Start time of a `--rescore` that was interrupted (started, never finished), if any."""
    row = tx.execute(
        select(AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.action.in_([RESCORE_STARTED, RESCORE_FINISHED]))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return row[1] if row is not None and row[0] == RESCORE_STARTED else None


def _insert_dialect(name: str) -> Any:
    """The dialect module with ON CONFLICT inserts; imported on use (the PostgreSQL one
    costs a SQLite intake ~0.05 s of start-up otherwise)."""
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite
    from sqlalchemy.dialects import postgresql

    return postgresql
