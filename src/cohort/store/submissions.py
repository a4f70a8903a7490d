"""Queries on submissions and their scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)

from cohort.errors import NotFound
from cohort.rawstore import ScoringRows, scoring_arrays
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


def scoring_rows(tx: Tx, week: str, sha: str, version: str, since: datetime | None) -> ScoringRows:
    """A week's file submissions with their stored score for (sha, version), lean for scoring runs.

    `scored` says a score exists; `scored_since` that it was written at or after `since`."""
    conn = tx.connection()  # Core level: seasons have tens of thousands of rows
    subs = conn.execute(
        select(Submission.id, Submission.file_sha256, Submission.status, Submission.error)
        .where(Submission.week == week, Submission.file_sha256 != "")
        .order_by(Submission.id)  # the driver's order (rawstore.file_rows): same score ids
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
    return scoring_arrays(subs, scores)


def stored_files(tx: Tx, week: str) -> list[tuple[int, str, str]]:
    """(id, file sha, file name) of a week's file submissions."""
    stmt = select(Submission.id, Submission.file_sha256, Submission.file_name).where(
        Submission.week == week, Submission.file_sha256 != ""
    )
    return [(int(i), sha, name) for i, sha, name in tx.connection().execute(stmt)]


def set_status(tx: Tx, statuses: dict[int, tuple[str, str]]) -> None:
    """Set (status, error) of many submissions."""
    if statuses:
        table: Any = Submission.__table__
        # Core executemany: a first scoring run sets tens of thousands of statuses at once.
        tx.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), error=bindparam("b_error")),
            [{"b_id": i, "b_status": s, "b_error": e} for i, (s, e) in statuses.items()],
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


def _with_scores(stmt: Any, sha: str, version: str, ov: Any) -> Any:
    """`stmt` over submissions joined to their member, their score for `sha` and `version`,
    and their latest override (`_latest_overrides`): the rows every board reads."""
    return (
        stmt.join(Member, Member.id == Submission.member_id)
        .outerjoin(
            Score,
            and_(
                Score.submission_id == Submission.id,
                Score.solution_sha256 == sha,
                Score.scorer_version == version,
            ),
        )
        .outerjoin(ov, ov.c.submission_id == Submission.id)
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
        stmt = _with_scores(
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
            ),
            sha,
            version,
            ov,
        ).where(Submission.week == week)
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


@dataclass(frozen=True)
class BoardLine:
    """One file submission that can be a member's line on a week's board (see `board_lines`)."""

    submission_id: int
    member_id: int
    handle: str
    name: str
    submitted_at: datetime
    file_sha256: str
    public_score: float | None
    private_score: float | None
    public_order: int  # 1 = the member's best public score (ties: earlier, then lower id)
    counted: bool  # counts for the private board: selected, else among the best `limit` public
    entries: int  # the member's file submissions that count for the week (scored or not)
    last_submitted_at: datetime


def board_lines(
    tx: Tx,
    week: str,
    sha: str,
    version: str,
    closes_at: datetime,
    revealed_at: datetime | None,
    direction: str,
    limit: int,
    every_scored: bool = False,
    members: list[int] | None = None,
) -> list[BoardLine]:
    """Each active member's best public submission and counted ones for a week: a few rows per
    member, ranked by the database, instead of every submission through pandas.

    The rules are those of the week frame (`scoring.boards.week_frame`): file submissions only,
    deactivated members left out, late ones left out (at or after the member's deadline, the
    close or a later extension, and at or after a reveal), effective scores = the latest
    override, else the score for `sha` and `version`. Counted = the member's selected scored
    files if any, else their best `limit` by public score. `every_scored` adds every file
    with a public score (the tie check's candidates before a reveal)."""
    from cohort.store.tables import Extension, UTCDateTime

    ov = _latest_overrides()
    public = func.coalesce(ov.c.public_score, Score.public_score)
    private = func.coalesce(ov.c.private_score, Score.private_score)
    in_time = Submission.submitted_at < closes_at
    in_time = in_time | (Extension.until.is_not(None) & (Submission.submitted_at < Extension.until))
    eligible = [
        Submission.week == week,
        Submission.file_sha256 != "",
        Member.active.is_(True),
        in_time,
    ]
    if revealed_at is not None:
        eligible.append(Submission.submitted_at < revealed_at)
    if members is not None:
        # A member's lines depend on their own rows only (every window is per member).
        eligible.append(Submission.member_id.in_(members))
    best_first = public.asc() if direction == "min" else public.desc()
    by_member = Submission.member_id
    scored = case((public.is_(None), 1), else_=0)
    inner = (
        _with_scores(
            select(
                Submission.id.label("sid"),
                Submission.member_id.label("mid"),
                Member.handle,
                Member.name,
                Submission.submitted_at.label("at"),
                Submission.file_sha256.label("sha"),
                public.label("pub"),
                private.label("priv"),
                Submission.selected.label("selected"),
                func.row_number()
                .over(
                    partition_by=by_member,
                    order_by=(scored, best_first, Submission.submitted_at, Submission.id),
                )
                .label("pub_order"),
                func.max(case((public.is_not(None) & Submission.selected, 1), else_=0))
                .over(partition_by=by_member)
                .label("has_choice"),
                func.count().over(partition_by=by_member).label("entries"),
                type_coerce(
                    func.max(Submission.submitted_at).over(partition_by=by_member), UTCDateTime()
                ).label("last"),
            ),
            sha,
            version,
            ov,
        )
        .outerjoin(Extension, and_(Extension.member_id == by_member, Extension.week == week))
        .where(*eligible)
        .subquery()
    )
    counted = inner.c.pub.is_not(None) & (
        ((inner.c.has_choice == 1) & inner.c.selected)
        | ((inner.c.has_choice == 0) & (inner.c.pub_order <= limit))
    )
    stmt = select(
        inner.c.sid,
        inner.c.mid,
        inner.c.handle,
        inner.c.name,
        inner.c.at,
        inner.c.sha,
        inner.c.pub,
        inner.c.priv,
        inner.c.pub_order,
        counted.label("counted"),
        inner.c.entries,
        inner.c.last,
    ).where((inner.c.pub_order == 1) | (inner.c.pub.is_not(None) if every_scored else counted))
    return [
        BoardLine(
            int(r[0]),
            int(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            None if r[6] is None else float(r[6]),
            None if r[7] is None else float(r[7]),
            int(r[8]),
            bool(r[9]),
            int(r[10]),
            r[11],
        )
        for r in tx.connection().execute(stmt)
    ]
