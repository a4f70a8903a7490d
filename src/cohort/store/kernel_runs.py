"""Queries on members' Kaggle notebook links and the kernel runs cohort collected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cohort.store import Tx
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


def notebook_links(tx: Tx, week: str | None = None) -> list[NotebookLink]:
    """Every distinct (member, week, link) from submissions, oldest week first."""
    stmt = (
        select(
            Member.id,
            Member.handle,
            Submission.week,
            Submission.notebook_url,
            func.max(Submission.submitted_at),
        )
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.notebook_url != "")
        .group_by(Member.id, Member.handle, Submission.week, Submission.notebook_url)
        .order_by(Submission.week, Member.handle, Submission.notebook_url)
    )
    if week is not None:
        stmt = stmt.where(Submission.week == week)
    return [NotebookLink(r[0], r[1], r[2], r[3], r[4]) for r in tx.execute(stmt)]


def _plain(row: KernelRunRow, handle: str) -> KernelRun:
    return KernelRun(
        row.id,
        row.member_id,
        handle,
        row.week,
        row.kernel_ref,
        row.status,
        row.reason,
        row.output_sha256,
        row.submission_id,
        row.checked_at,
    )


def settled_run(
    tx: Tx, member_id: int, week: str, kernel_ref: str, output_sha256: str
) -> KernelRun | None:
    """The latest check that collected this exact output or refused it for good, if any."""
    stmt = (
        select(KernelRunRow, Member.handle)
        .join(Member, Member.id == KernelRunRow.member_id)
        .where(
            KernelRunRow.member_id == member_id,
            KernelRunRow.week == week,
            KernelRunRow.kernel_ref == kernel_ref,
            KernelRunRow.output_sha256 == output_sha256,
            KernelRunRow.status.in_(SETTLED),
        )
        .order_by(KernelRunRow.id.desc())
        .limit(1)
    )
    row = tx.execute(stmt).first()
    return None if row is None else _plain(row[0], row[1])


def record_run(
    tx: Tx,
    member_id: int,
    week: str,
    kernel_ref: str,
    status: str,
    at: datetime,
    reason: str = "",
    output_sha256: str = "",
    submission_id: int | None = None,
) -> int:
    """Record a check; a check that repeats the latest one only moves its time, so reruns add no rows."""
    latest = tx.scalar(
        select(KernelRunRow)
        .where(
            KernelRunRow.member_id == member_id,
            KernelRunRow.week == week,
            KernelRunRow.kernel_ref == kernel_ref,
        )
        .order_by(KernelRunRow.id.desc())
        .limit(1)
    )
    if (
        latest is not None
        and submission_id is None
        and (latest.status, latest.reason, latest.output_sha256) == (status, reason, output_sha256)
    ):
        latest.checked_at = at
        return latest.id
    row = KernelRunRow(
        member_id=member_id,
        week=week,
        kernel_ref=kernel_ref,
        status=status,
        reason=reason,
        output_sha256=output_sha256,
        submission_id=submission_id,
        checked_at=at,
    )
    tx.add(row)
    tx.flush()
    return row.id


def runs(tx: Tx, week: str | None = None) -> list[KernelRun]:
    """Every recorded check, oldest first."""
    stmt = (
        select(KernelRunRow, Member.handle)
        .join(Member, Member.id == KernelRunRow.member_id)
        .order_by(KernelRunRow.id)
    )
    if week is not None:
        stmt = stmt.where(KernelRunRow.week == week)
    return [_plain(r[0], r[1]) for r in tx.execute(stmt)]
