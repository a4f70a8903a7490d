"""A week's results as an announcement: Markdown for a chat channel, plain text for email.

Only what members may see goes in: the public board until the week is revealed, the
private one (with each member's public rank beside it) after. Members' names and
handles are escaped for Markdown, so a member called `[x](http://evil)` stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cohort import present
from cohort.scoring import boards
from cohort.season.status import week_status
from cohort.workspace import Cohort, utcnow

TOP = 10
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~>])")


@dataclass(frozen=True)
class Announcement:
    """One week's announcement in both forms."""

    week: str
    title: str
    markdown: str
    text: str


def _md(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def announce(cohort: Cohort, week_ref: str, top: int = TOP) -> Announcement:
    """The week's results for members: its board's top entries, participation, what is next."""
    week = cohort.config.week(week_ref)
    now = utcnow()
    tz = cohort.config.tz
    revealed = boards.is_revealed(cohort, week.id, now)
    board = boards.leaderboard(cohort, week.id, private=revealed, now=now)
    status = week_status(cohort, week.id, now)
    metric = week.competition.metric
    kind = "final private leaderboard" if revealed else "public leaderboard so far"
    title = f"{present.week_label(week)}: {kind}"
    entered = int((status.members["files"] > 0).sum())
    facts = [
        f"{entered} of {len(status.members)} members submitted; "
        f"{present.week_window(week, now, tz)}.",
        f"Scores are {present.metric_label(metric)} ({present.direction_text(week.competition.direction)}).",
    ]
    if not revealed:
        facts.append("Private scores stay hidden until the week closes.")
    rows = board.rows[:top]
    md = [f"**{title}**", "", *facts, ""]
    text = [title, "=" * len(title)] + facts + [""]
    if rows:
        md += [
            "| # | member | score |" + (" public # |" if revealed else ""),
            "|---|---|---|" + ("---|" if revealed else ""),
        ]
        for r in rows:
            extra = f" {r.public_rank or ''} |" if revealed else ""
            md.append(
                f"| {r.rank} | {_md(r.name)} ({_md(r.handle)}) | {present.score(r.score, metric)} |{extra}"
            )
            shown = f"{r.rank:>3}. {r.name} ({r.handle})  {present.score(r.score, metric)}"
            text.append(
                shown + (f"  (public #{r.public_rank})" if revealed and r.public_rank else "")
            )
    else:
        md.append("No scored submissions yet.")
        text.append("No scored submissions yet.")
    nxt = _next_week(cohort, week)
    if nxt:
        md += ["", nxt]
        text += ["", nxt]
    return Announcement(week.id, title, "\n".join(md) + "\n", "\n".join(text) + "\n")


def _next_week(cohort: Cohort, week: object) -> str:
    weeks = list(cohort.config.weeks)
    later = [w for w in weeks[weeks.index(week) + 1 :] if w.opens_at > utcnow()]  # type: ignore[arg-type]
    if not later:
        return ""
    w = later[0]
    return f"Next: {present.week_label(w)} opens {present.when_full(w.opens_at, cohort.config.tz)}."
