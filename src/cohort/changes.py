"""What has changed: a cheap stamp of the store that caches (the Streamlit app's) key on."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd

from cohort.store import audit, bulk
from cohort.workspace import Cohort, utcnow


def stamp(cohort: Cohort, now: datetime | None = None) -> tuple[Any, ...]:
    """Changes whenever a board's answer can: any new row, a reveal, or a week closing."""
    now = now or utcnow()
    # Closing a week reveals its private board without touching the database.
    closed = tuple(w.id for w in cohort.config.weeks if w.is_closed(now))
    with cohort.store.transaction() as tx:
        return (*bulk.change_stamp(tx), closed)


def recent_actions(cohort: Cohort, limit: int = 200) -> pd.DataFrame:
    """The audit log, newest first: when, who, what, on what, and the details."""
    with cohort.store.transaction() as tx:
        entries = audit.entries(tx, limit)
    rows = [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
             "detail": json.dumps(e.detail, sort_keys=True, default=str)} for e in entries]
    return pd.DataFrame(rows, columns=["at", "actor", "action", "target", "detail"])
