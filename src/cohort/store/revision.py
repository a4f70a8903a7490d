"""The store's revision: the change stamp the app's caches key on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cohort.store import Tx
from cohort.store.tables import (
    AuditEntry,
    Challenge,
    Contribution,
    Member,
    Notebook,
    Score,
    ScoreOverride,
    SelectionFreeze,
    Submission,
    WeekState,
)

# Every table whose rows change what a page shows. Rows are only appended or
# updated in place; an update is always accompanied by an audit entry or a new
# row elsewhere (a score, an override), so max(id) per table plus the count of
# revealed weeks changes whenever a page's answer can.
_STAMPED = (
    Member,
    Submission,
    Score,
    ScoreOverride,
    Contribution,
    Notebook,
    SelectionFreeze,
    Challenge,
    AuditEntry,
)


def change_stamp(tx: Tx) -> tuple[Any, ...]:
    """A cheap value that changes whenever anything a board shows changes (one indexed query)."""
    parts = [select(func.max(t.id)).scalar_subquery() for t in _STAMPED]
    parts.append(
        select(func.count())
        .select_from(WeekState)
        .where(WeekState.revealed_at.is_not(None))
        .scalar_subquery()
    )
    parts.append(select(func.max(WeekState.solution_sha256)).scalar_subquery())
    # A member may swap their final selections without adding rows; the id sum sees that.
    parts.append(
        select(func.sum(Submission.id)).where(Submission.selected.is_(True)).scalar_subquery()
    )
    row = tx.execute(select(*parts)).one()
    return tuple(row)


def score_stamp(tx: Tx, week: str) -> tuple[str, str, str] | None:
    """(solution sha, scorer version, file sha) of one scored submission of a week, to clone."""
    row = tx.execute(
        select(Score.solution_sha256, Score.scorer_version, Submission.file_sha256)
        .join(Submission, Submission.id == Score.submission_id)
        .where(Submission.week == week)
        .limit(1)
    ).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]))
