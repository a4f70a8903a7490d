"""Every table of the store. Only the store package imports this module.

A change here needs a migration in cohort/migrations/versions/ (see README,
"Changing the schema"); tests/test_store.py fails when the two disagree.
"""

# No `from __future__ import annotations`: SQLAlchemy would then parse and eval each of the
# ~110 `Mapped[...]` strings when the classes are mapped, 0.07 s of every store-opening
# command's start-up; as objects they are read directly.
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

# Stable constraint names so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns an aware UTC datetime, on SQLite too (which keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' text, which SQLAlchemy parses with a regex
        # (about 5 us a value); fromisoformat reads the same text in a tenth of that, and the
        # standings of a large cohort read tens of thousands of timestamps per view.
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def parse(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value.replace(tzinfo=UTC)

        return parse


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    kaggle_username: Mapped[str] = mapped_column(String(100), default="")
    # sha256 of the member's personal token; the token itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A deactivated member keeps their history but leaves boards, standings and exports.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())


class WeekState(Base):
    """What the store knows about a week beyond its week.toml."""

    __tablename__ = "week_state"
    week: Mapped[str] = mapped_column(String(64), primary_key=True)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revealed_by: Mapped[str] = mapped_column(String(100), default="")
    # sha256 of the solution.csv the current scores were computed against.
    solution_sha256: Mapped[str] = mapped_column(String(64), default="")
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    week: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # cli, app, form, kaggle, demo, challenge
    source: Mapped[str] = mapped_column(String(20), default="cli")
    notebook_url: Mapped[str] = mapped_column(Text, default="")
    # Empty for a notebook-link-only submission.
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    # pending, scored, error, notebook
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str] = mapped_column(Text, default="")
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Dedup key for imports (a Google Form row, a Kaggle kernel version); unique when set.
    import_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    __table_args__ = (Index("ix_submissions_week_member", "week", "member_id"),)


class Score(Base):
    __tablename__ = "scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    solution_sha256: Mapped[str] = mapped_column(String(64))
    scorer_version: Mapped[str] = mapped_column(String(20))
    public_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Keyed by solution first (migration 0014): a solution fix's new rows are appended in one
    # run of index pages, not one page every few files; the key serves lookups by solution.
    __table_args__ = (
        UniqueConstraint(
            "solution_sha256", "scorer_version", "submission_id", name="uq_scores_key"
        ),
        Index("ix_scores_submission", "submission_id"),
    )


class ScoreOverride(Base):
    """An organizer's correction of a score, with the reason; the latest one wins."""

    __tablename__ = "score_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    public_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contribution(Base):
    """One contribution event. A correction is a new row that supersedes an old one."""

    __tablename__ = "contributions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    week: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    # manual, import, derived
    source: Mapped[str] = mapped_column(String(20), default="manual")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"), nullable=True)
    import_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)


class Notebook(Base):
    """A member's notebook source, stored for the contribution metrics."""

    __tablename__ = "notebooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    week: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    analysis: Mapped[dict] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("member_id", "week", "sha256", name="uq_notebooks_key"),)


class KernelRun(Base):
    """One check of a member's Kaggle kernel by `cohort kaggle collect`."""

    __tablename__ = "kernel_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    week: Mapped[str] = mapped_column(String(64))
    kernel_ref: Mapped[str] = mapped_column(String(200))
    # complete, running, error, no_output, invalid, collected, unchanged
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    output_sha256: Mapped[str] = mapped_column(String(64), default="")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Challenge(Base):
    """A short live coding-challenge window, opened from the Organizer page."""

    __tablename__ = "challenges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100), default="")


class SelectionFreeze(Base):
    """The frozen top-N selection, with the formula and inputs it came from."""

    __tablename__ = "selection_freezes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    frozen_by: Mapped[str] = mapped_column(String(100), default="")
    top_n: Mapped[int] = mapped_column(Integer)
    formula: Mapped[dict] = mapped_column(JSON)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)
    # A re-freeze (with --force) marks the older one superseded rather than deleting it.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)


class FinalEntry(Base):
    """A row of the real Kaggle final competition's leaderboard, as imported."""

    __tablename__ = "final_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    team_name: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # leaderboard or submission
    kind: Mapped[str] = mapped_column(String(20), default="leaderboard")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditEntry(Base):
    """Every organizer action that changes what members see."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Extension(Base):
    """One member's later deadline for one week (`cohort extend`); the latest one holds."""

    __tablename__ = "extensions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    week: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("member_id", "week", name="uq_extensions_member_week"),)


class Revision(Base):
    """One row: a counter every write transaction of the store bumps (the app's cache key)."""

    __tablename__ = "revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# Tables the database fills itself (by triggers, and the cache keyed on their counters): never
# copied between stores or restored from a backup, since each database's triggers keep its own.
DERIVED_TABLES = frozenset(
    {"week_revisions", "member_week_revisions", "derived_cache", "bulk_score_writes"}
)


class WeekRevision(Base):
    """A counter per week, bumped by database triggers (migration 0010) on every change to the
    rows its boards are built from; week '' moves with any change to members."""

    __tablename__ = "week_revisions"
    week: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class MemberWeekRevision(Base):
    """A counter per (week, member), bumped by database triggers (migration 0011) on every
    change to that member's submissions, scores, overrides or extension in the week; member 0
    moves with the week's state."""

    __tablename__ = "member_week_revisions"
    week: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class DerivedCache(Base):
    """A value `store.revision` derived from a week's rows, pickled with the stamp (counters and
    key) it was built under (migration 0012); a cache only: any row may be dropped at any time."""

    __tablename__ = "derived_cache"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class BulkScoreWrite(Base):
    """Holds a row only inside a scoring run's write transaction on SQLite (migration 0013):
    while it does, the row triggers on scores stand aside and the run bumps the counters of
    what it wrote in one statement. Never committed with a row in it."""

    __tablename__ = "bulk_score_writes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
