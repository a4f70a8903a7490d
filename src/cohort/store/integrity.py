"""Queries for `cohort check`: what the rows say the stored files and scores should be."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from cohort.store import Tx
from cohort.store.tables import Member, Score, Submission

INF = float("inf")


def files_by_week(tx: Tx) -> dict[str, set[str]]:
    """Every week that has file submissions -> the file shas its rows reference."""
    stmt = select(Submission.week, Submission.file_sha256).where(Submission.file_sha256 != "")
    out: dict[str, set[str]] = {}
    for week, sha in tx.connection().execute(stmt.distinct()):
        out.setdefault(week, set()).add(sha)
    return out


def pending_count(tx: Tx) -> int:
    """File submissions stored but not scored yet (status 'pending')."""
    stmt = select(func.count(Submission.id)).where(
        Submission.status == "pending", Submission.file_sha256 != ""
    )
    return int(tx.scalar(stmt) or 0)


def non_finite_scores(tx: Tx) -> list[int]:
    """Ids of submissions with an infinite stored score (scored before scores were checked)."""
    bad = or_(
        Score.public_score.in_([INF, -INF]),
        Score.private_score.in_([INF, -INF]),
    )
    return sorted({int(i) for i in tx.scalars(select(Score.submission_id).where(bad))})


def dangling_rows(tx: Tx) -> int:
    """Scores whose submission, or submissions whose member, no longer exists."""
    scores = select(func.count(Score.id)).where(~Score.submission_id.in_(select(Submission.id)))
    subs = select(func.count(Submission.id)).where(~Submission.member_id.in_(select(Member.id)))
    return int(tx.scalar(scores) or 0) + int(tx.scalar(subs) or 0)
