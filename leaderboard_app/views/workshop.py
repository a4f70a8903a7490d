"""Workshop screen, for the projector at 1920x1080: large type, refreshed every few seconds.

`?mode=workshop` (no navigation) shows, in order of precedence: an open live
challenge (a large countdown, the join link and its QR code, the challenge's
board), the results podium of a challenge that ended in the last few minutes,
else the current week's board with its countdown, rank arrows since the last
refresh, new or improved rows highlighted, and a strip of the latest entries.
After the reveal it shows the private board beside each member's public rank,
coloured arrows and the biggest movers. `&view=standings` shows the season
standings with the cut line and the tie warning instead.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd
import streamlit as st

import cohort_ui as ui
import screen
from cohort import present
from cohort.config import Week
from cohort.errors import CohortError
from cohort.season import challenges
from cohort.workspace import Cohort, utcnow

REFRESH_SECONDS = 5
PAGE_SECONDS = 12  # a board of more than 48 members turns a page this often
PODIUM_MINUTES = 5
TRACKERS = "workshop_trackers"


def _tracker(key: str) -> screen.Tracker:
    """This browser session's memory of a board, so the screen can show what moved."""
    trackers = st.session_state.setdefault(TRACKERS, {})
    return trackers.setdefault(key, screen.Tracker())


def _records(frame: pd.DataFrame) -> list[dict]:
    return list(frame[frame["score"].notna()].to_dict("records"))


def _page() -> int:
    return int(time.time() // PAGE_SECONDS)


def _week(c: Cohort, root: str, stamp) -> str:  # noqa: ANN001
    week = ui.current_week(c)
    now = utcnow()
    clock = present.week_window(week, now, c.config.tz)
    try:
        public = ui.board(root, stamp, week.id, False)
        revealed = ui.revealed(root, stamp, week.id)
        private = ui.board(root, stamp, week.id, True) if revealed else None
    except CohortError as exc:
        return screen.header(ui.week_label(week), "", clock) + screen.empty(
            f"No leaderboard yet: {exc}"
        )
    metric = week.competition.metric
    caption = present.metric_caption(week.competition)
    if private is not None:
        rows = _records(private["rows"])
        head = screen.header(ui.week_label(week), f"Private leaderboard (final) · {caption}", clock)
        if not rows:
            return head + screen.empty("No scored submissions.")
        return (
            head
            + screen.movers(rows)
            + screen.board_html(rows, metric, page=_page(), private=True, board_px=640)
        )
    rows = _records(public["rows"])
    head = screen.header(ui.week_label(week), f"Public leaderboard · {caption}", clock)
    if not rows:
        return head + screen.empty("No scored submissions yet.")
    tracker = _tracker(f"week:{week.id}")
    tracker.update(rows, time.monotonic())
    board = screen.board_html(rows, metric, page=_page(), tracker=tracker, now=time.monotonic())
    recent = ui.latest(root, stamp, week.id)
    return head + board + screen.strip(recent, metric, c.config.tz)


def _challenge(c: Cohort, root: str, stamp, running: challenges.Challenge) -> str:  # noqa: ANN001
    week = c.config.week(running.week)
    clock, last = screen.clock_text(running.closes_at, utcnow())
    rows = _records(ui.challenge_board(root, stamp, running.id))
    url = ui.join_url()
    head = (
        "<div class='top'><div>"
        f"<h1>Live challenge · {screen.esc(week.title)}</h1>"
        f"<div class='sub'>{screen.esc(present.metric_caption(week.competition))} · "
        "only submissions made during the challenge count</div>"
        f"{screen.join_box(url, ui.qr_data_uri(url))}</div>"
        f"<div class='clock big{' last' if last else ''}'>{screen.esc(clock)}"
        "<div class='sub'>left</div></div></div>"
    )
    if not rows:
        return head + screen.empty("No submissions yet. Submit from the Submit page!")
    tracker = _tracker(f"challenge:{running.id}")
    tracker.update(rows, time.monotonic())
    return head + screen.board_html(
        rows, week.competition.metric, _page(), tracker, time.monotonic(), board_px=420
    )


def _podium(c: Cohort, root: str, stamp, ended: challenges.Challenge) -> str:  # noqa: ANN001
    week: Week = c.config.week(ended.week)
    rows = _records(ui.challenge_board(root, stamp, ended.id))
    head = screen.header(
        f"Challenge results · {week.title}",
        f"ended {present.when(ended.closes_at, c.config.tz, with_day=False)} · "
        f"{present.metric_caption(week.competition)}",
        "",
    )
    if not rows:
        return head + screen.empty("No one submitted during the challenge.")
    rest = rows[3:]
    below = screen.board_html(rest, week.competition.metric, board_px=300) if rest else ""
    return head + screen.podium(rows[:3], week.competition.metric) + below


def _standings(root: str, stamp) -> str:  # noqa: ANN001
    view = ui.standings_view(root, stamp)
    table = view["table"]
    cut = view["cut"]
    head = screen.header(
        "Season standings", f"The top {cut} go to the final project", view["frozen"] or ""
    )
    if table.empty or not (table["total"] > 0).any():
        return head + screen.empty("No standings yet.")
    shown = list(table.head(min(len(table), 2 * 24 - 1)).to_dict("records"))
    tied = {r["handle"] for r in shown if r["tied"]}
    ties = view["ties"]
    shown_ties = ties[:3] + ([f"and {len(ties) - 3} more close pairs"] if len(ties) > 3 else [])
    warn = screen.warning(shown_ties) if ties else ""
    px = 600 if warn else 700
    return head + warn + screen.standings_html(shown, cut, tied, board_px=px)


def _ended_recently(c: Cohort) -> challenges.Challenge | None:
    last = challenges.latest(c)
    if last is None:
        return None
    since = utcnow() - last.closes_at
    return last if timedelta(0) <= since < timedelta(minutes=PODIUM_MINUTES) else None


@st.fragment(run_every=REFRESH_SECONDS)
def _live() -> None:
    c = ui.cohort()
    root, stamp = ui.key(c)
    if st.query_params.get("view") == "standings":
        body = _standings(root, stamp)
    elif (running := challenges.current(c)) is not None:
        body = _challenge(c, root, stamp, running)
    elif (ended := _ended_recently(c)) is not None:
        body = _podium(c, root, stamp, ended)
    else:
        body = _week(c, root, stamp)
    st.html(screen.screen(body))
    st.caption(
        f"Refreshes every {REFRESH_SECONDS} s · updated "
        f"{present.when(utcnow(), c.config.tz, with_day=False)} · {c.config.name}"
    )


def main() -> None:
    """Render the page."""
    st.html(screen.STYLE)
    _live()


main()
