"""Queries on what cohort fetches from Kaggle: members' notebook links, kernel runs, final entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from cohort.store import Tx
from cohort.store.tables import FinalEntry as FinalEntryRow
from cohort.store.tables import KernelRun as KernelRunRow
from cohort.store.tables import Member, Submission

# Outcomes after which the same output is never submitted again.
SETTLED = ("collected", "invalid", "refused")


@dataclass(frozen=True)
class NotebookLink:
    """A notebook link a member gave with a submission for a week."""

    member_id: int
    handle: str
    week: str
    url: str
    last_submitted_at: datetime


@dataclass(frozen=True)
class KernelRun:
    """One recorded check of a member's Kaggle kernel."""

    id: int
    member_id: int
    handle: str
    week: str
    kernel_ref: str
    status: str
    reason: str
    output_sha256: str
    submission_id: int | None
    checked_at: datetime


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


def notebook_links(tx: Tx, week: str | None = None) -> list[NotebookLink]:
    """Every distinct (member, week, link) from submissions, oldest week first."""
    stmt = (
        select(Member.id, Member.handle, Submission.week, Submission.notebook_url,
               func.max(Submission.submitted_at))
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.notebook_url != "")
        .group_by(Member.id, Member.handle, Submission.week, Submission.notebook_url)
        .order_by(Submission.week, Member.handle, Submission.notebook_url)
    )
    if week is not None:
        stmt = stmt.where(Submission.week == week)
    return [NotebookLink(r[0], r[1], r[2], r[3], r[4]) for r in tx.execute(stmt)]


def _plain(row: KernelRunRow, handle: str) -> KernelRun:
    return KernelRun(row.id, row.member_id, handle, row.week, row.kernel_ref, row.status, row.reason,
                     row.output_sha256, row.submission_id, row.checked_at)


def settled_run(tx: Tx, member_id: int, week: str, kernel_ref: str, output_sha256: str) -> KernelRun | None:
    """The latest check that collected this exact output or refused it for good, if any."""
    stmt = (
        select(KernelRunRow, Member.handle).join(Member, Member.id == KernelRunRow.member_id)
        .where(KernelRunRow.member_id == member_id, KernelRunRow.week == week,
               KernelRunRow.kernel_ref == kernel_ref, KernelRunRow.output_sha256 == output_sha256,
               KernelRunRow.status.in_(SETTLED))
        .order_by(KernelRunRow.id.desc()).limit(1)
    )
    row = tx.execute(stmt).first()
    return None if row is None else _plain(row[0], row[1])


def record_run(tx: Tx, member_id: int, week: str, kernel_ref: str, status: str, at: datetime,
               reason: str = "", output_sha256: str = "", submission_id: int | None = None) -> int:
    """Record a check; a check that repeats the latest one only moves its time, so reruns add no rows."""
    latest = tx.scalar(
        select(KernelRunRow).where(KernelRunRow.member_id == member_id, KernelRunRow.week == week,
                                   KernelRunRow.kernel_ref == kernel_ref)
        .order_by(KernelRunRow.id.desc()).limit(1)
    )
    if latest is not None and submission_id is None and (
            latest.status, latest.reason, latest.output_sha256) == (status, reason, output_sha256):
        latest.checked_at = at
        return latest.id
    row = KernelRunRow(member_id=member_id, week=week, kernel_ref=kernel_ref, status=status,
                       reason=reason, output_sha256=output_sha256, submission_id=submission_id,
                       checked_at=at)
    tx.add(row)
    tx.flush()
    return row.id


def runs(tx: Tx, week: str | None = None) -> list[KernelRun]:
    """Every recorded check, oldest first."""
    stmt = (select(KernelRunRow, Member.handle).join(Member, Member.id == KernelRunRow.member_id)
            .order_by(KernelRunRow.id))
    if week is not None:
        stmt = stmt.where(KernelRunRow.week == week)
    return [_plain(r[0], r[1]) for r in tx.execute(stmt)]


def replace_final_entries(tx: Tx, entries: list[FinalEntry]) -> int:
    """Replace the imported snapshot of the final competition; returns how many rows were written."""
    tx.execute(delete(FinalEntryRow))
    ids = {handle: id_ for handle, id_ in tx.execute(select(Member.handle, Member.id))}
    for e in entries:
        tx.add(FinalEntryRow(fetched_at=e.fetched_at, team_name=e.team_name,
                             member_id=ids.get(e.handle) if e.handle else None, score=e.score,
                             rank=e.rank, submitted_at=e.submitted_at, kind=e.kind, detail=e.detail))
    return len(entries)


def final_entries(tx: Tx, kind: str | None = None) -> list[FinalEntry]:
    """The imported final-competition rows: leaderboard rows by rank, then submissions by time."""
    stmt = (select(FinalEntryRow, Member.handle)
            .join(Member, Member.id == FinalEntryRow.member_id, isouter=True)
            .order_by(FinalEntryRow.kind, FinalEntryRow.rank, FinalEntryRow.submitted_at, FinalEntryRow.id))
    if kind is not None:
        stmt = stmt.where(FinalEntryRow.kind == kind)
    return [FinalEntry(r.team_name, h, r.score, r.rank, r.submitted_at, r.kind, dict(r.detail), r.fetched_at)
            for r, h in tx.execute(stmt)]
