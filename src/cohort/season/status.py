"""The week at a glance: who has submitted a file and a notebook, best scores, flags.

One core function serves `cohort status [WEEK]` and the app's Organizer page: it returns
a frame, one row per active member, plus the week's window. Public scores only, so the
view is safe before the reveal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from cohort import present
from cohort.config import Week
from cohort.scoring import boards, deadlines
from cohort.scoring.links import check_notebook_url, owner_warning
from cohort.sheets.roster import list_members
from cohort.workspace import Cohort, utcnow

COLUMNS = [
    "handle",
    "name",
    "files",
    "notebook",
    "best_public",
    "public_rank",
    "last_submitted_at",
    "flags",
]


@dataclass(frozen=True)
class WeekStatus:
    """One week's state: its window and a row per active member."""

    week: Week
    state: str  # "not open yet", "open", "closed"
    revealed: bool
    members: pd.DataFrame  # COLUMNS

    @property
    def missing_file(self) -> list[str]:
        """Handles of active members without a scored or pending file."""
        return self.members[self.members["files"] == 0]["handle"].tolist()

    @property
    def missing_notebook(self) -> list[str]:
        """Handles of active members without a notebook link."""
        return self.members[self.members["notebook"] == ""]["handle"].tolist()


def current_week(cohort: Cohort, now: datetime | None = None) -> Week:
    """The week open now; else the latest one that has opened; else the first."""
    now = now or utcnow()
    weeks = cohort.config.weeks
    open_now = [w for w in weeks if w.opens_at <= now < w.closes_at]
    if open_now:
        return open_now[-1]
    started = [w for w in weeks if w.opens_at <= now]
    return started[-1] if started else weeks[0]


def week_status(
    cohort: Cohort, week_ref: str | None = None, now: datetime | None = None
) -> WeekStatus:
    """Per active member: file entries, notebook link, best public score and rank, flags."""
    now = now or utcnow()
    week = cohort.config.week(week_ref) if week_ref else current_week(cohort, now)
    state = "not open yet" if now < week.opens_at else "open" if now < week.closes_at else "closed"
    frame = boards.week_frame(cohort, week)
    ranks = {r.handle: (r.rank, r.score) for r in boards.leaderboard(cohort, week.id).rows}
    with cohort.store.transaction() as tx:
        extended = deadlines.extensions(tx, week)
    rows = []
    for m in list_members(cohort.store, include_inactive=False):
        mine = frame[frame["handle"] == m.handle]
        files = mine[mine["file_sha256"] != ""]
        links = [u for u in mine["notebook_url"].tolist() if u]
        flags = []
        if (mine["status"] == "error").any():
            flags.append(f"{int((mine['status'] == 'error').sum())} file(s) in error")
        for url in dict.fromkeys(links):
            link = check_notebook_url(url)
            owned = owner_warning(link, m.kaggle_username) if m.kaggle_username else ""
            flags += [f"link: {w}" for w in [*link.warnings, owned] if w]
        if not m.kaggle_username:
            flags.append("no Kaggle username")
        if m.handle in extended:
            flags.append(
                f"extension until {present.when_full(extended[m.handle], cohort.config.tz)}"
            )
        rank, score = ranks.get(m.handle, (None, None))
        rows.append(
            {
                "handle": m.handle,
                "name": m.name,
                "files": len(files),
                "notebook": links[-1] if links else "",
                "best_public": score,
                "public_rank": rank,
                "last_submitted_at": mine["submitted_at"].max() if len(mine) else None,
                "flags": "; ".join(flags),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return WeekStatus(week, state, boards.is_revealed(cohort, week.id, now), table)
