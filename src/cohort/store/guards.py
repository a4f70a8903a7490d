"""Text checked before the database sees it, the same on SQLite and PostgreSQL.

SQLite ignores a column's length and keeps NUL characters; PostgreSQL refuses both with a
DataError mid-transaction. Every ORM write is checked here first, so both stores refuse
the same input with the same one-line message, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session

from cohort.errors import ValidationError


def check_row(obj: Any) -> None:
    """Refuse a row whose text holds a NUL or is longer than its column allows."""
    mapper = inspect(obj).mapper
    for col in mapper.columns:
        value = getattr(obj, col.key, None)
        if not isinstance(value, str) or not isinstance(col.type, String):
            continue
        what = f"{mapper.local_table.name}.{col.name}"
        if "\x00" in value:
            raise ValidationError(
                f"The text for {what} contains a NUL character; remove it and try again."
            )
        limit = col.type.length
        if limit and len(value) > limit:
            raise ValidationError(
                f"The text for {what} is {len(value)} characters long; at most {limit} "
                "fit. Shorten it and try again."
            )


@event.listens_for(Session, "before_flush")
def _check_text(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        check_row(obj)
