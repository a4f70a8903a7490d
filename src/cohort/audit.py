"""The audit log as organizers read it: every action that changed what members see."""

from __future__ import annotations

import json

import pandas as pd

from cohort.store import audit
from cohort.workspace import Cohort


def recent_actions(cohort: Cohort, limit: int = 200) -> pd.DataFrame:
    """The audit log, newest first: when, who, what, on what, and the details."""
    with cohort.store.transaction() as tx:
        entries = audit.entries(tx, limit)
    rows = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "detail": json.dumps(e.detail, sort_keys=True, default=str),
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=["at", "actor", "action", "target", "detail"])
