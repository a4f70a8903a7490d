"""Per-member deadline extensions (`cohort extend`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cohort.store import Tx
from cohort.store.tables import Extension, Member


def put(
    tx: Tx, member_id: int, week: str, until: datetime, reason: str, actor: str, now: datetime
) -> datetime | None:
    """Set one member's deadline for a week; returns the one it replaced, if any."""
    row = tx.scalar(
        select(Extension).where(Extension.member_id == member_id, Extension.week == week)
    )
    if row is None:
        tx.add(
            Extension(
                member_id=member_id,
                week=week,
                until=until,
                reason=reason,
                actor=actor,
                created_at=now,
            )
        )
        return None
    old = row.until
    row.until, row.reason, row.actor, row.created_at = until, reason, actor, now
    return old


def for_week(tx: Tx, week: str) -> dict[str, datetime]:
    """Handle -> extended deadline, for one week."""
    rows = tx.execute(
        select(Member.handle, Extension.until)
        .join(Member, Member.id == Extension.member_id)
        .where(Extension.week == week)
    )
    return {str(h): u for h, u in rows}


def submission_times(tx: Tx, week: str) -> list[tuple[str, datetime]]:
    """(handle, submitted_at) of every submission to a week."""
    from cohort.store.tables import Submission

    rows = tx.execute(
        select(Member.handle, Submission.submitted_at)
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.week == week)
    )
    return [(str(h), at) for h, at in rows]
