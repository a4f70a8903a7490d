"""Queries on contribution events and stored notebooks.

Events are never edited or deleted: a correction is a new row whose
`supersedes_id` points at the old one, and "current" means not superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased

from cohort.errors import NotFound
from cohort.store import Tx
from cohort.store.tables import Contribution, Member, Notebook, Submission

if TYPE_CHECKING:
    import pandas as pd

EVENT_COLUMNS = [
    "id",
    "handle",
    "name",
    "week",
    "kind",
    "value",
    "note",
    "evidence",
    "source",
    "recorded_by",
    "recorded_at",
    "supersedes_id",
    "import_key",
]


@dataclass(frozen=True)
class Event:
    id: int
    handle: str
    week: str
    kind: str
    value: float
    note: str
    source: str
    superseded_by: int | None


@dataclass(frozen=True)
class NewEvent:
    """Everything needed to insert one event (the store stamps nothing itself)."""

    member_id: int
    week: str
    kind: str
    value: float
    note: str
    evidence: dict[str, Any]
    source: str
    recorded_by: str
    recorded_at: datetime
    supersedes_id: int | None = None
    import_key: str | None = None


def add(tx: Tx, event: NewEvent) -> int:
    """Insert one event; returns its id."""
    row = Contribution(
        member_id=event.member_id,
        week=event.week,
        kind=event.kind,
        value=event.value,
        note=event.note,
        evidence=event.evidence,
        source=event.source,
        recorded_by=event.recorded_by,
        recorded_at=event.recorded_at,
        supersedes_id=event.supersedes_id,
        import_key=event.import_key,
    )
    tx.add(row)
    tx.flush()
    return int(row.id)


def get(tx: Tx, event_id: int) -> Event:
    """One event by id, with the id of the event that superseded it (if any)."""
    row = tx.get(Contribution, event_id)
    if row is None:
        raise NotFound(f"No contribution event #{event_id}; check `cohort contrib list`.")
    later = tx.scalar(select(Contribution.id).where(Contribution.supersedes_id == event_id))
    handle = tx.scalar(select(Member.handle).where(Member.id == row.member_id)) or ""
    return Event(row.id, handle, row.week, row.kind, row.value, row.note, row.source, later)


def import_key_exists(tx: Tx, key: str) -> bool:
    """True when an event with this import key was recorded before (superseded or not)."""
    return tx.scalar(select(Contribution.id).where(Contribution.import_key == key)) is not None


def current(tx: Tx, handle: str | None = None, evidence: bool = True) -> pd.DataFrame:
    """Current (not superseded) events, oldest first, as a DataFrame of EVENT_COLUMNS
    (`evidence=False`: each evidence left empty, not decoded; the standings never read it)."""
    import pandas as pd  # not on the intake path, which imports this module

    later = aliased(Contribution)
    c = Contribution
    # Columns, not ORM objects: the standings read every event, and entity loading dominated.
    stmt = (
        select(
            c.id,
            Member.handle,
            Member.name,
            c.week,
            c.kind,
            c.value,
            c.note,
            c.evidence if evidence else literal(None),
            c.source,
            c.recorded_by,
            c.recorded_at,
            c.supersedes_id,
            c.import_key,
        )
        .join(Member, Member.id == Contribution.member_id)
        .outerjoin(later, later.supersedes_id == Contribution.id)
        .where(later.id.is_(None))
        .order_by(Contribution.id)
    )
    if handle is not None:
        stmt = stmt.where(Member.handle == handle)
    # Core execution: the ORM's row handling doubled the time of this read on 5,000 events.
    rows = [[*r[:7], dict(r[7] or {}), *r[8:]] for r in tx.connection().execute(stmt)]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def notebook_links(
    tx: Tx, week: str, before: datetime, members: list[int] | None = None
) -> list[tuple[str, datetime, str]]:
    """(handle, submitted_at, notebook link) of `week`'s submissions with a link, before `before`, oldest first
    (`members`: of those member ids only)."""
    return [(h, at, url) for _, h, at, url in member_links(tx, week, before, members)]


def member_links(
    tx: Tx, week: str, before: datetime, members: list[int] | None = None
) -> list[tuple[int, str, datetime, str]]:
    """`notebook_links` with each link's member id first."""
    stmt = (
        select(Member.id, Member.handle, Submission.submitted_at, Submission.notebook_url)
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.week == week, Submission.notebook_url != "")
        .order_by(Submission.submitted_at, Submission.id)
    )
    if members is not None:
        stmt = stmt.where(Submission.member_id.in_(members))
    return [(int(m), h, at, url) for m, h, at, url in tx.execute(stmt) if at < before]


def week_notebooks(tx: Tx, week: str) -> list[tuple[str, str, str]]:
    """(handle, sha256, content) of each member's latest stored notebook for `week`, by handle."""
    latest = (
        select(func.max(Notebook.id).label("nid"))
        .where(Notebook.week == week)
        .group_by(Notebook.member_id)
        .subquery()
    )
    stmt = (
        select(Member.handle, Notebook.sha256, Notebook.content)
        .join(Member, Member.id == Notebook.member_id)
        .join(latest, latest.c.nid == Notebook.id)
        .order_by(Member.handle)
    )
    return [(h, sha, content) for h, sha, content in tx.execute(stmt)]


@dataclass(frozen=True)
class StoredNotebook:
    id: int
    created: bool


def add_notebook(
    tx: Tx,
    member_id: int,
    week: str,
    url: str,
    sha256: str,
    content: str,
    analysis: dict[str, Any],
    at: datetime,
) -> StoredNotebook:
    """Store a notebook once per (member, week, content hash); a repeat returns the stored one."""
    existing = tx.scalar(
        select(Notebook.id).where(
            Notebook.member_id == member_id, Notebook.week == week, Notebook.sha256 == sha256
        )
    )
    if existing is not None:
        return StoredNotebook(int(existing), False)
    row = Notebook(
        member_id=member_id,
        week=week,
        url=url,
        sha256=sha256,
        content=content,
        analysis=analysis,
        fetched_at=at,
    )
    tx.add(row)
    tx.flush()
    return StoredNotebook(int(row.id), True)
