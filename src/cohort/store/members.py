"""Queries on members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from cohort.errors import ConfigError, NotFound
from cohort.store import Tx
from cohort.store.tables import Member as MemberRow


@dataclass(frozen=True)
class Member:
    id: int
    handle: str
    name: str
    email: str
    kaggle_username: str
    has_token: bool
    active: bool = True


_COLUMNS = (
    MemberRow.id,
    MemberRow.handle,
    MemberRow.name,
    MemberRow.email,
    MemberRow.kaggle_username,
    MemberRow.token_hash,
    MemberRow.active,
)


def _plain(row: Any) -> Member:
    return Member(
        row.id,
        row.handle,
        row.name,
        row.email,
        row.kaggle_username,
        row.token_hash is not None,
        bool(row.active),
    )


def all_members(tx: Tx) -> list[Member]:
    """Every member, ordered by handle."""
    from cohort.store import revision

    # Plain rows, not ORM objects: standings read the roster several times per view, and building
    # 1,000 mapped instances cost about 0.1 s each time. Kept on the members' counter (the
    # database's triggers move it on any change to a member).
    def read() -> list[Member]:
        rows = tx.connection().execute(select(*_COLUMNS).order_by(MemberRow.handle))
        return [_plain(r) for r in rows]

    return list(revision.by_weeks(tx, "members", [], None, read))


def by_handle(tx: Tx, handle: str) -> Member:
    """One member by handle, or NotFound naming the fix."""
    row = tx.scalar(select(MemberRow).where(MemberRow.handle == handle))
    if row is None:
        raise NotFound(f"No member '{handle}'; check `cohort members list` or import the roster.")
    return _plain(row)


def upsert(tx: Tx, handle: str, name: str, email: str, kaggle_username: str, now: datetime) -> str:
    """Insert or update one member; returns 'added', 'updated' or 'unchanged'."""
    row = tx.scalar(select(MemberRow).where(MemberRow.handle == handle))
    if row is None:
        twin = tx.scalar(
            select(MemberRow.handle).where(func.lower(MemberRow.handle) == handle.lower())
        )
        if twin is not None:  # 'ADA' beside 'ada' would be two members nobody can tell apart
            raise ConfigError(
                f"Handle '{handle}' differs only in case from member '{twin}'; use '{twin}'."
            )
        tx.add(
            MemberRow(
                handle=handle,
                name=name,
                email=email,
                kaggle_username=kaggle_username,
                created_at=now,
            )
        )
        return "added"
    if (row.name, row.email, row.kaggle_username) == (name, email, kaggle_username):
        return "unchanged"
    row.name, row.email, row.kaggle_username = name, email, kaggle_username
    return "updated"


def set_token_hash(tx: Tx, handle: str, token_hash: str) -> None:
    """Store the hash of a member's new token, replacing any old one."""
    row = tx.scalar(select(MemberRow).where(MemberRow.handle == handle))
    if row is None:
        raise NotFound(f"No member '{handle}'; check `cohort members list`.")
    row.token_hash = token_hash


def by_token_hash(tx: Tx, token_hash: str) -> Member | None:
    """The active member whose token hashes to `token_hash`, if any."""
    row = tx.scalar(select(MemberRow).where(MemberRow.token_hash == token_hash))
    return None if row is None or not row.active else _plain(row)


def update(tx: Tx, handle: str, **fields: str) -> dict[str, tuple[str, str]]:
    """Change a member's name, email or Kaggle username; returns field -> (old, new)."""
    row = tx.scalar(select(MemberRow).where(MemberRow.handle == handle))
    if row is None:
        raise NotFound(f"No member '{handle}'; check `cohort members list`.")
    changed = {}
    for key, value in fields.items():
        if getattr(row, key) != value:
            changed[key] = (getattr(row, key), value)
            setattr(row, key, value)
    return changed


def set_active(tx: Tx, handle: str, active: bool) -> bool:
    """Deactivate or reactivate a member; returns False when they already were."""
    row = tx.scalar(select(MemberRow).where(MemberRow.handle == handle))
    if row is None:
        raise NotFound(f"No member '{handle}'; check `cohort members list`.")
    if bool(row.active) == active:
        return False
    row.active = active  # the token stays, and signs them in again once reactivated
    return True


def inactive_ids(tx: Tx) -> set[int]:
    """Ids of deactivated members."""
    return {int(i) for i in tx.scalars(select(MemberRow.id).where(MemberRow.active.is_(False)))}
