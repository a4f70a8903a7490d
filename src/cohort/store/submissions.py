"""Queries on submissions and their scores."""

from __future__ import annotations

from sqlalchemy import func, select

from cohort.store import Tx
from cohort.store.tables import Score, Submission


def count_scored(tx: Tx, week: str) -> int:
    """How many of a week's submissions have at least one score."""
    stmt = (
        select(func.count(func.distinct(Submission.id)))
        .join(Score, Score.submission_id == Submission.id)
        .where(Submission.week == week)
    )
    return int(tx.scalar(stmt) or 0)
