"""Workshop screen, for the projector: the current week's board in large type, refreshed every few seconds.

While a live coding challenge is open it shows the challenge's board instead:
only submissions made inside the window count. Open it at `?mode=workshop`
for a screen without the navigation.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

import cohort_ui as ui
from cohort.errors import CohortError
from cohort.season import challenges
from cohort.workspace import Cohort, utcnow

REFRESH_SECONDS = 5
SHOWN = 15

STYLE = """
<style>
.workshop h1 { font-size: 3.2rem; margin-bottom: 0.2rem; }
.workshop .sub { font-size: 1.6rem; color: #666; margin-bottom: 1rem; }
.workshop table { width: 100%; border-collapse: collapse; font-size: 2.1rem; }
.workshop td, .workshop th { padding: 0.3rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
.workshop th { font-size: 1.4rem; color: #666; }
.workshop td.num, .workshop th.num { text-align: right; font-variant-numeric: tabular-nums; }
.workshop .empty { font-size: 2.2rem; color: #666; padding: 2rem 0; }
</style>
"""


def _table(rows: pd.DataFrame) -> str:
    """The board as an HTML table; every member-supplied text is escaped."""
    head = (
        "<tr><th>#</th><th>Member</th><th class='num'>Score</th><th class='num'>Entries</th></tr>"
    )
    body = "".join(
        f"<tr><td>{int(r['rank'])}</td><td>{html.escape(str(r['name']))} "
        f"<small>({html.escape(str(r['handle']))})</small></td>"
        f"<td class='num'>{ui.fmt_score(r['score'])}</td><td class='num'>{int(r['entries'])}</td></tr>"
        for _, r in rows.head(SHOWN).iterrows()
    )
    return f"<table>{head}{body}</table>"


def _screen(title: str, subtitle: str, rows: pd.DataFrame, empty: str) -> None:
    content = _table(rows) if not rows.empty else f"<div class='empty'>{html.escape(empty)}</div>"
    st.html(
        f"<div class='workshop'><h1>{html.escape(title)}</h1>"
        f"<div class='sub'>{html.escape(subtitle)}</div>{content}</div>"
    )


def _challenge(c: Cohort, root: str, stamp, running: challenges.Challenge) -> None:  # noqa: ANN001
    week = c.config.week(running.week)
    left = max(0, int((running.closes_at - utcnow()).total_seconds()))
    rows = ui.challenge_board(root, stamp, running.id)
    _screen(
        f"Live challenge · {week.title}",
        f"{left // 60:02d}:{left % 60:02d} left · metric {week.competition.metric} · "
        "only submissions made during the challenge count",
        rows,
        "No submissions yet. Submit from the Submit page!",
    )


def _week(c: Cohort, root: str, stamp) -> None:  # noqa: ANN001
    week = ui.current_week(c)
    try:
        public = ui.board(root, stamp, week.id, False)
        revealed = ui.revealed(root, stamp, week.id)
        board = ui.board(root, stamp, week.id, True) if revealed else public
    except CohortError as exc:
        _screen(week.title, ui.week_label(week), pd.DataFrame(), f"No leaderboard yet: {exc}")
        return
    rows = board["rows"][board["rows"]["score"].notna()]
    kind = "private (final)" if revealed else "public"
    _screen(
        ui.week_label(week),
        f"{kind} leaderboard · metric {week.competition.metric} · closes "
        f"{ui.fmt_time(week.closes_at, c)}",
        rows,
        "No scored submissions yet.",
    )


@st.fragment(run_every=REFRESH_SECONDS)
def _live() -> None:
    c = ui.cohort()
    root, stamp = ui.key(c)
    running = challenges.current(c)
    if running is not None:
        _challenge(c, root, stamp, running)
    else:
        _week(c, root, stamp)
    st.caption(f"Refreshes every {REFRESH_SECONDS} s · {c.config.name}")


def main() -> None:
    """Render the page."""
    st.html(STYLE)
    _live()


main()
