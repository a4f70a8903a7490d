"""What has changed: the stamp the Streamlit app's caches key on.

Three things change what a page shows: the store (its revision moves with every write
transaction), the hidden solution files on disk (re-prepared, edited or reverted without
any write to the store), and the clock (a week closing reveals its private board).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cohort.store import revision
from cohort.workspace import Cohort, utcnow


def solution_files(cohort: Cohort) -> tuple[tuple[str, int, int, int], ...]:
    """(week, mtime_ns, size, inode) of each week's solution.csv; zeros when there is none."""
    found = []
    for week in cohort.config.weeks:
        try:
            st = cohort.config.solution_path(week).stat()
            found.append((week.id, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            found.append((week.id, 0, 0, 0))
    return tuple(found)


def stamp(cohort: Cohort, now: datetime | None = None) -> tuple[Any, ...]:
    """Changes whenever a board's answer can: a store write, a solution file, a week closing."""
    now = now or utcnow()
    closed = tuple(w.id for w in cohort.config.weeks if w.is_closed(now))
    with cohort.store.transaction() as tx:
        value = revision.current(tx)
    return (value, solution_files(cohort), closed)
