"""The audit log of organizer actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cohort.store import Tx
from cohort.store.tables import AuditEntry as AuditRow


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def record(tx: Tx, at: datetime, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Append one entry; entries are never edited or deleted."""
    tx.add(AuditRow(at=at, actor=actor, action=action, target=target, detail=detail))


def entries(tx: Tx, limit: int = 200) -> list[AuditEntry]:
    """The newest entries first."""
    rows = tx.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
    return [AuditEntry(r.at, r.actor, r.action, r.target, dict(r.detail)) for r in rows]
