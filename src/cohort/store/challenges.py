"""Queries on live coding-challenge windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cohort.errors import NotFound
from cohort.store import Tx
from cohort.store.tables import Challenge as ChallengeRow


@dataclass(frozen=True)
class Challenge:
    id: int
    week: str
    opens_at: datetime
    closes_at: datetime
    created_by: str

    def is_open(self, now: datetime) -> bool:
        """True while submissions count for this challenge."""
        return self.opens_at <= now < self.closes_at


def _plain(row: ChallengeRow) -> Challenge:
    return Challenge(row.id, row.week, row.opens_at, row.closes_at, row.created_by)


def add(tx: Tx, week: str, opens_at: datetime, closes_at: datetime, created_by: str) -> Challenge:
    """Insert one window and return it."""
    row = ChallengeRow(week=week, opens_at=opens_at, closes_at=closes_at, created_by=created_by)
    tx.add(row)
    tx.flush()
    return _plain(row)


def open_at(tx: Tx, now: datetime) -> Challenge | None:
    """The window open at `now` (the newest, should two overlap)."""
    stmt = (
        select(ChallengeRow)
        .where(ChallengeRow.opens_at <= now, ChallengeRow.closes_at > now)
        .order_by(ChallengeRow.id.desc())
        .limit(1)
    )
    row = tx.scalar(stmt)
    return None if row is None else _plain(row)


def latest(tx: Tx) -> Challenge | None:
    """The most recently opened window, open or not."""
    row = tx.scalar(select(ChallengeRow).order_by(ChallengeRow.id.desc()).limit(1))
    return None if row is None else _plain(row)


def close(tx: Tx, challenge_id: int, at: datetime) -> Challenge:
    """End a window early, at `at`."""
    row = tx.get(ChallengeRow, challenge_id)
    if row is None:
        raise NotFound(f"No challenge {challenge_id}; open one from the Organizer page.")
    row.closes_at = min(row.closes_at, at)
    return _plain(row)


def get(tx: Tx, challenge_id: int) -> Challenge:
    """One window by id, or NotFound."""
    row = tx.get(ChallengeRow, challenge_id)
    if row is None:
        raise NotFound(f"No challenge {challenge_id}; open one from the Organizer page.")
    return _plain(row)
