"""Queries for the standings: first submissions, stored files, and frozen selections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from cohort.store import Tx
from cohort.store.tables import Member, SelectionFreeze, Submission


@dataclass(frozen=True)
class Freeze:
    id: int
    frozen_at: datetime
    frozen_by: str
    top_n: int
    formula: dict[str, Any]
    inputs_sha256: str
    inputs: dict[str, Any]
    result: dict[str, Any]
    superseded: bool


def first_submissions(
    tx: Tx, weeks: list[str], members: list[int] | None = None
) -> dict[str, datetime]:
    """Member handle -> their earliest scored submission in the given weeks (`members`: of
    those member ids only)."""
    return {handle: at for _, handle, at in first_scored(tx, weeks, members)}


def first_scored(
    tx: Tx, weeks: list[str], members: list[int] | None = None
) -> list[tuple[int, str, datetime]]:
    """(member id, handle, earliest scored submission in the given weeks) per member who has
    one (`members`: of those member ids only)."""
    stmt = (
        select(Member.id, Member.handle, func.min(Submission.submitted_at))
        .join(Member, Member.id == Submission.member_id)
        .where(Submission.week.in_(weeks), Submission.status == "scored")
        .group_by(Member.id, Member.handle)
    )
    if members is not None:
        stmt = stmt.where(Submission.member_id.in_(members))
    # func.min bypasses the column type on SQLite, so the value may come back naive or as text.
    return [(int(mid), handle, _aware(at)) for mid, handle, at in tx.execute(stmt)]


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _plain(row: SelectionFreeze) -> Freeze:
    return Freeze(
        row.id,
        row.frozen_at,
        row.frozen_by,
        row.top_n,
        dict(row.formula),
        row.inputs_sha256,
        dict(row.inputs),
        dict(row.result),
        row.superseded,
    )


def current_freeze(tx: Tx) -> Freeze | None:
    """The newest freeze that was not superseded."""
    row = tx.scalar(
        select(SelectionFreeze)
        .where(SelectionFreeze.superseded.is_(False))
        .order_by(SelectionFreeze.id.desc())
    )
    return None if row is None else _plain(row)


def all_freezes(tx: Tx) -> list[Freeze]:
    """Every freeze, newest first (superseded ones included)."""
    return [
        _plain(r) for r in tx.scalars(select(SelectionFreeze).order_by(SelectionFreeze.id.desc()))
    ]


def add_freeze(
    tx: Tx,
    at: datetime,
    by: str,
    top_n: int,
    formula: dict[str, Any],
    inputs_sha256: str,
    inputs: dict[str, Any],
    result: dict[str, Any],
) -> int:
    """Record a frozen selection; returns its id."""
    row = SelectionFreeze(
        frozen_at=at,
        frozen_by=by,
        top_n=top_n,
        formula=formula,
        inputs_sha256=inputs_sha256,
        inputs=inputs,
        result=result,
        superseded=False,
    )
    tx.add(row)
    tx.flush()
    return int(row.id)


def supersede_freeze(tx: Tx, freeze_id: int) -> None:
    """Mark a freeze superseded; it is kept for the audit trail."""
    row = tx.get(SelectionFreeze, freeze_id)
    if row is not None:
        row.superseded = True
