"""Queries on submissions and their scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import DateTime, Integer, and_, func, insert, literal, select, type_coerce, update

from cohort.errors import NotFound
from cohort.store import Tx
from cohort.store.tables import Member, Score, ScoreOverride, Submission

if TYPE_CHECKING:
    import pandas as pd


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
        select(Submission, Member.handle)
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.id == submission_id)
    ).first()
    if row is None:
        raise NotFound(
            f"No submission {submission_id}; see `cohort leaderboard` or the member's history."
        )
    s, handle = row
    return SubmissionRecord(
        s.id,
        s.member_id,
        handle,
        s.week,
        s.submitted_at,
        s.source,
        s.notebook_url,
        s.file_sha256,
        s.file_name,
        s.status,
        s.error,
        s.selected,
        s.import_key,
    )


def count_files_between(tx: Tx, member_id: int, week: str, start: datetime, end: datetime) -> int:
    """File submissions (not notebook links) of a member for a week in [start, end)."""
    stmt = select(func.count(Submission.id)).where(
        Submission.member_id == member_id,
        Submission.week == week,
        Submission.file_sha256 != "",
        Submission.submitted_at >= start,
        Submission.submitted_at < end,
    )
    return int(tx.scalar(stmt) or 0)


def lock_intake(tx: Tx, member_id: int, week: str) -> None:
    """Serialize one member's intakes for one week until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on (member, week), taken before any
    row is written, so no lock is ever upgraded and parallel intakes cannot deadlock.
    SQLite: a no-op; the intake's first statement is an insert, which takes the write
    lock, and SQLite writers run one at a time."""
    if tx.get_bind().dialect.name == "postgresql":
        import zlib

        week_key = zlib.crc32(week.encode()) - 2**31  # into int4's range
        tx.execute(select(func.pg_advisory_xact_lock(member_id, week_key)))


def import_key_exists(tx: Tx, key: str) -> bool:
    """True when a submission was already imported under this key."""
    return tx.scalar(select(Submission.id).where(Submission.import_key == key)) is not None


SCORING_COLUMNS = [
    "submission_id",
    "file_sha256",
    "status",
    "error",
    "scored_public",
    "scored_private",
    "scored",
    "scored_since",
]


def scoring_rows(tx: Tx, week: str, sha: str, version: str, since: datetime | None) -> pd.DataFrame:
    """A week's file submissions with their stored score for (sha, version), lean for scoring runs.

    `scored` says a score exists; `scored_since` that it was written at or after `since`."""
    import pandas as pd

    conn = tx.connection()  # Core level: seasons have tens of thousands of rows
    subs = conn.execute(
        select(Submission.id, Submission.file_sha256, Submission.status, Submission.error).where(
            Submission.week == week, Submission.file_sha256 != ""
        )
    ).all()
    # Two index scans merged here beat one join probing the scores index per submission.
    since_cond = (Score.scored_at >= since) if since is not None else literal(False)
    scores = conn.execute(
        select(
            Score.submission_id,
            Score.public_score,
            Score.private_score,
            type_coerce(since_cond, Integer),
        ).where(Score.solution_sha256 == sha, Score.scorer_version == version)
    ).all()
    ids, shas, status, error = _columns(subs, 4)
    score_ids, public, private, fresh = _columns(scores, 4)
    at = pd.Index(np.asarray(score_ids, dtype=np.int64)).get_indexer(
        pd.Index(np.asarray(ids, dtype=np.int64))
    )
    found = at >= 0

    def pick(values: tuple[Any, ...], empty: Any) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        return np.where(found, arr[at] if len(arr) else empty, empty)

    return pd.DataFrame(
        {
            "submission_id": np.asarray(ids, dtype=np.int64),
            "file_sha256": pd.Series(shas, dtype=object),
            "status": pd.Series(status, dtype=object),
            "error": pd.Series(error, dtype=object),
            "scored_public": pick(public, np.nan),
            "scored_private": pick(private, np.nan),
            "scored": found,
            "scored_since": pick(tuple(f or 0 for f in fresh), 0.0).astype(bool),
        }
    )


def _columns(rows: Any, width: int) -> list[tuple[Any, ...]]:
    """Rows turned into `width` column tuples."""
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def stored_files(tx: Tx, week: str) -> list[tuple[int, str, str]]:
    """(id, file sha, file name) of a week's file submissions."""
    stmt = select(Submission.id, Submission.file_sha256, Submission.file_name).where(
        Submission.week == week, Submission.file_sha256 != ""
    )
    return [(int(i), sha, name) for i, sha, name in tx.connection().execute(stmt)]


def set_status(tx: Tx, statuses: dict[int, tuple[str, str]]) -> None:
    """Set (status, error) of many submissions."""
    if statuses:
        tx.execute(
            update(Submission),
            [{"id": i, "status": s, "error": e} for i, (s, e) in statuses.items()],
        )


def set_selected(tx: Tx, member_id: int, week: str, ids: list[int]) -> None:
    """Mark exactly `ids` as the member's final selection for the week."""
    tx.execute(
        update(Submission)
        .where(Submission.member_id == member_id, Submission.week == week)
        .values(selected=Submission.id.in_(ids))
    )


def _latest_overrides() -> Any:
    latest = (
        select(ScoreOverride.submission_id, func.max(ScoreOverride.id).label("oid"))
        .group_by(ScoreOverride.submission_id)
        .subquery()
    )
    return (
        select(ScoreOverride.submission_id, ScoreOverride.public_score, ScoreOverride.private_score)
        .join(latest, latest.c.oid == ScoreOverride.id)
        .subquery()
    )


def _naive(column: Any) -> Any:
    """A UTC timestamp column read as a plain DateTime; the frame localizes it in one step."""
    return type_coerce(column, DateTime())


FRAME_COLUMNS = [
    "submission_id",
    "member_id",
    "handle",
    "name",
    "week",
    "submitted_at",
    "status",
    "error",
    "notebook_url",
    "selected",
    "file_sha256",
    "scored_public",
    "scored_private",
    "scored_at",
    "override_public",
    "override_private",
]


def scored_frame(
    tx: Tx, sha_by_week: dict[str, str], version: str, member_id: int | None = None
) -> pd.DataFrame:
    """Submissions of the given weeks with their score for each week's solution sha.

    `public_score`/`private_score` are the effective scores (the latest override, else
    the computed one); `scored_*` are the computed ones, `scored_at` NaT when unscored."""
    import pandas as pd

    ov = _latest_overrides()
    rows: list[Any] = []
    for week, sha in sha_by_week.items():
        stmt = (
            select(
                Submission.id,
                Submission.member_id,
                Member.handle,
                Member.name,
                Submission.week,
                _naive(Submission.submitted_at),
                Submission.status,
                Submission.error,
                Submission.notebook_url,
                Submission.selected,
                Submission.file_sha256,
                Score.public_score,
                Score.private_score,
                _naive(Score.scored_at),
                ov.c.public_score,
                ov.c.private_score,
            )
            .join(Member, Member.id == Submission.member_id)
            .outerjoin(
                Score,
                and_(
                    Score.submission_id == Submission.id,
                    Score.solution_sha256 == sha,
                    Score.scorer_version == version,
                ),
            )
            .outerjoin(ov, ov.c.submission_id == Submission.id)
            .where(Submission.week == week)
        )
        if member_id is not None:
            stmt = stmt.where(Submission.member_id == member_id)
        # Core-level execution: seasons have tens of thousands of rows and ORM row handling is slow.
        rows.extend(tx.connection().execute(stmt).all())
    frame = pd.DataFrame([tuple(r) for r in rows], columns=FRAME_COLUMNS)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"]).dt.tz_localize("UTC")
    for col in ("scored_public", "scored_private", "override_public", "override_private"):
        frame[col] = frame[col].astype(float)
    frame["scored_at"] = pd.to_datetime(frame["scored_at"]).dt.tz_localize("UTC")
    frame["public_score"] = frame["override_public"].fillna(frame["scored_public"])
    frame["private_score"] = frame["override_private"].fillna(frame["scored_private"])
    return frame.sort_values("submission_id", ignore_index=True)
