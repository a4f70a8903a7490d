"""What has changed: a cheap stamp of the store that caches (the Streamlit app's) key on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cohort.store import revision
from cohort.workspace import Cohort, utcnow


def stamp(cohort: Cohort, now: datetime | None = None) -> tuple[Any, ...]:
    """Changes whenever a board's answer can: any new row, a reveal, or a week closing."""
    now = now or utcnow()
    # Closing a week reveals its private board without touching the database.
    closed = tuple(w.id for w in cohort.config.weeks if w.is_closed(now))
    with cohort.store.transaction() as tx:
        return (*revision.change_stamp(tx), closed)
