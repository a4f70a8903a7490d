"""Queries on submissions and their scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, insert, select, update

from cohort.errors import NotFound
from cohort.store import Tx
from cohort.store.tables import Member, Score, ScoreOverride, Submission


@dataclass(frozen=True)
class SubmissionRecord:
    id: int
    member_id: int
    handle: str
    week: str
    submitted_at: datetime
    source: str
    notebook_url: str
    file_sha256: str
    file_name: str
    status: str
    error: str
    selected: bool
    import_key: str | None


def count_scored(tx: Tx, week: str) -> int:
    """How many of a week's submissions have at least one score."""
    stmt = (
        select(func.count(func.distinct(Submission.id)))
        .join(Score, Score.submission_id == Submission.id)
        .where(Submission.week == week)
    )
    return int(tx.scalar(stmt) or 0)


def add(tx: Tx, **fields: Any) -> int:
    """Insert one submission row; returns its id."""
    row = Submission(**fields)
    tx.add(row)
    tx.flush()
    return int(row.id)


def bulk_add(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert many submission rows at once (benchmarks, imports)."""
    if rows:
        tx.execute(insert(Submission), rows)


def get(tx: Tx, submission_id: int) -> SubmissionRecord:
    """One submission, or NotFound."""
    row = tx.execute(
        select(Submission, Member.handle).join(Member, Member.id == Submission.member_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None:
        raise NotFound(f"No submission {submission_id}; see `cohort leaderboard` or the member's history.")
    s, handle = row
    return SubmissionRecord(s.id, s.member_id, handle, s.week, s.submitted_at, s.source, s.notebook_url,
                            s.file_sha256, s.file_name, s.status, s.error, s.selected, s.import_key)


def count_files_between(tx: Tx, member_id: int, week: str, start: datetime, end: datetime) -> int:
    """File submissions (not notebook links) of a member for a week in [start, end)."""
    stmt = select(func.count(Submission.id)).where(
        Submission.member_id == member_id, Submission.week == week, Submission.file_sha256 != "",
        Submission.submitted_at >= start, Submission.submitted_at < end,
    )
    return int(tx.scalar(stmt) or 0)


def import_key_exists(tx: Tx, key: str) -> bool:
    """True when a submission was already imported under this key."""
    return tx.scalar(select(Submission.id).where(Submission.import_key == key)) is not None


def to_score(tx: Tx, week: str, sha: str, version: str, rescore: bool,
             since: datetime | None = None) -> list[tuple[int, str]]:
    """(id, file sha) of a week's file submissions lacking a score for (sha, version).

    With `rescore`, those scored before `since` (or all, when None) are included too."""
    cond = [Score.submission_id == Submission.id, Score.solution_sha256 == sha, Score.scorer_version == version]
    if rescore and since is not None:
        cond.append(Score.scored_at >= since)
    stmt = select(Submission.id, Submission.file_sha256).where(
        Submission.week == week, Submission.file_sha256 != "")
    if not (rescore and since is None):
        stmt = stmt.where(~select(Score.id).where(and_(*cond)).exists())
    return [(int(i), s) for i, s in tx.execute(stmt.order_by(Submission.id))]


def set_status(tx: Tx, statuses: dict[int, tuple[str, str]]) -> None:
    """Set (status, error) of many submissions."""
    if statuses:
        tx.execute(update(Submission), [
            {"id": i, "status": s, "error": e} for i, (s, e) in statuses.items()])


def set_selected(tx: Tx, member_id: int, week: str, ids: list[int]) -> None:
    """Mark exactly `ids` as the member's final selection for the week."""
    tx.execute(update(Submission).where(Submission.member_id == member_id, Submission.week == week)
               .values(selected=Submission.id.in_(ids)))


def _latest_overrides() -> Any:
    latest = (select(ScoreOverride.submission_id, func.max(ScoreOverride.id).label("oid"))
              .group_by(ScoreOverride.submission_id).subquery())
    return (select(ScoreOverride.submission_id, ScoreOverride.public_score, ScoreOverride.private_score)
            .join(latest, latest.c.oid == ScoreOverride.id).subquery())


FRAME_COLUMNS = ["submission_id", "member_id", "handle", "name", "week", "submitted_at", "status",
                 "error", "notebook_url", "selected", "file_sha256", "scored_public", "scored_private",
                 "scored_at", "override_public", "override_private"]


def scored_frame(tx: Tx, sha_by_week: dict[str, str], version: str,
                 member_id: int | None = None) -> pd.DataFrame:
    """Submissions of the given weeks with their score for each week's solution sha.

    `public_score`/`private_score` are the effective scores (the latest override, else
    the computed one); `scored_*` are the computed ones, `scored_at` NaT when unscored."""
    ov = _latest_overrides()
    rows: list[Any] = []
    for week, sha in sha_by_week.items():
        stmt = (
            select(Submission.id, Submission.member_id, Member.handle, Member.name, Submission.week,
                   Submission.submitted_at, Submission.status, Submission.error, Submission.notebook_url,
                   Submission.selected, Submission.file_sha256, Score.public_score, Score.private_score,
                   Score.scored_at, ov.c.public_score, ov.c.private_score)
            .join(Member, Member.id == Submission.member_id)
            .outerjoin(Score, and_(Score.submission_id == Submission.id, Score.solution_sha256 == sha,
                                   Score.scorer_version == version))
            .outerjoin(ov, ov.c.submission_id == Submission.id)
            .where(Submission.week == week)
        )
        if member_id is not None:
            stmt = stmt.where(Submission.member_id == member_id)
        rows.extend(tx.execute(stmt).all())
    frame = pd.DataFrame([tuple(r) for r in rows], columns=FRAME_COLUMNS)
    for col in ("scored_public", "scored_private", "override_public", "override_private"):
        frame[col] = frame[col].astype(float)
    frame["scored_at"] = pd.to_datetime(frame["scored_at"], utc=True)
    frame["public_score"] = frame["override_public"].fillna(frame["scored_public"])
    frame["private_score"] = frame["override_private"].fillna(frame["scored_private"])
    return frame.sort_values("submission_id", ignore_index=True)
