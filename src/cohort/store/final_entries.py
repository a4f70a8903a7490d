"""Queries on the final competition's imported entries (leaderboard rows and team submissions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from cohort.store import Tx
from cohort.store.tables import FinalEntry as FinalEntryRow
from cohort.store.tables import Member


@dataclass(frozen=True)
class FinalEntry:
    """A row of the final competition's leaderboard or one of a member team's submissions."""

    team_name: str
    handle: str | None
    score: float | None
    rank: int | None
    submitted_at: datetime | None
    kind: str
    detail: dict[str, Any]
    fetched_at: datetime


def replace_final_entries(tx: Tx, entries: list[FinalEntry]) -> int:
    """Replace the imported leaderboard snapshot (members' late submissions stay); rows written."""
    tx.execute(delete(FinalEntryRow).where(FinalEntryRow.kind.in_(("leaderboard", "submission"))))
    ids = {handle: id_ for handle, id_ in tx.execute(select(Member.handle, Member.id))}
    for e in entries:
        tx.add(
            FinalEntryRow(
                fetched_at=e.fetched_at,
                team_name=e.team_name,
                member_id=ids.get(e.handle) if e.handle else None,
                score=e.score,
                rank=e.rank,
                submitted_at=e.submitted_at,
                kind=e.kind,
                detail=e.detail,
            )
        )
    return len(entries)


def replace_member_entries(tx: Tx, handle: str, kind: str, entries: list[FinalEntry]) -> int:
    """Replace one member's rows of one kind (e.g. their late submissions); returns how many were written."""
    member_id = tx.execute(select(Member.id).where(Member.handle == handle)).scalar_one()
    tx.execute(
        delete(FinalEntryRow).where(
            FinalEntryRow.member_id == member_id, FinalEntryRow.kind == kind
        )
    )
    for e in entries:
        tx.add(
            FinalEntryRow(
                fetched_at=e.fetched_at,
                team_name=e.team_name,
                member_id=member_id,
                score=e.score,
                rank=e.rank,
                submitted_at=e.submitted_at,
                kind=kind,
                detail=e.detail,
            )
        )
    return len(entries)


def final_entries(tx: Tx, kind: str | None = None) -> list[FinalEntry]:
    """The imported final-competition rows: leaderboard rows by rank, then submissions by time."""
    stmt = (
        select(FinalEntryRow, Member.handle)
        .join(Member, Member.id == FinalEntryRow.member_id, isouter=True)
        .order_by(
            FinalEntryRow.kind, FinalEntryRow.rank, FinalEntryRow.submitted_at, FinalEntryRow.id
        )
    )
    if kind is not None:
        stmt = stmt.where(FinalEntryRow.kind == kind)
    return [
        FinalEntry(
            r.team_name, h, r.score, r.rank, r.submitted_at, r.kind, dict(r.detail), r.fetched_at
        )
        for r, h in tx.execute(stmt)
    ]
