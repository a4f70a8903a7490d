"""Leaderboard page: a week's public board; after the reveal, its private board and shake-up.

The board refreshes itself (a fragment) and says when; the grid shows every row without an
inner scroll box up to GRID_MAX_ROWS; on a phone it keeps rank, member, score and change.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
import cohort_ui as ui
from cohort import present
from cohort.config import Week
from cohort.errors import CohortError
from cohort.workspace import Cohort, utcnow

REFRESH_SECONDS = 30


def _table(rows: pd.DataFrame, c: Cohort, private: bool, compact: bool) -> pd.DataFrame:
    """The columns a member reads; scores stay numbers so the grid sorts and aligns them."""
    out = pd.DataFrame({"Rank": rows["rank"].astype(int), "Member": rows["name"]})
    out["Score"] = rows["score"].astype(float)
    if private:
        out["Change"] = rows["rank_change"].map(present.rank_change)
        if not compact:
            out["Public rank"] = rows["public_rank"]
    if not compact:
        out["Handle"] = rows["handle"]
        out["Entries"] = rows["entries"]
        out["Last submission"] = rows["last_submitted_at"].map(lambda t: ui.fmt_time(t, c))
    return out


def _grid(rows: pd.DataFrame, c: Cohort, week: Week, private: bool) -> None:
    compact = ui.compact()
    table = _table(rows, c, private, compact)
    metric = week.competition.metric
    st.dataframe(
        table,
        hide_index=True,
        placeholder="–",
        width="stretch",
        height=ui.grid_height(len(table)),
        column_config={
            "Rank": st.column_config.NumberColumn("Rank", format="%d", width="small"),
            "Member": st.column_config.TextColumn("Member", pinned=True),
            "Score": st.column_config.NumberColumn(
                present.metric_label(metric),
                format=present.number_format(metric),
                help=present.metric_caption(week.competition),
            ),
            "Change": st.column_config.TextColumn(
                "Change", help="Places gained (▲) or lost (▼) from the public to the private board"
            ),
        },
    )


def _scored(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["score"].notna()]


@st.fragment(run_every=REFRESH_SECONDS)
def _board(week: Week) -> None:
    c = ui.cohort()
    root, stamp = ui.key(c)
    try:
        public = ui.board(root, stamp, week.id, False)
        revealed = ui.revealed(root, stamp, week.id)
        private = ui.board(root, stamp, week.id, True) if revealed else None
    except CohortError as exc:
        st.info(f"No leaderboard for this week yet: {exc}")
        return
    rows = _scored(public["rows"])
    if rows.empty:
        st.info("No scored submissions for this week yet. Be the first: open the Submit page.")
    elif private is None:
        st.subheader(f"Public leaderboard · {len(rows)} members")
        st.caption(
            "Scored on the public part of the test set. The private leaderboard, which "
            f"counts, is revealed when the week closes ({ui.fmt_time(week.closes_at, c)})."
        )
        _grid(rows, c, week, False)
    else:
        _revealed(c, week, rows, _scored(private["rows"]))
    ui.updated(c, REFRESH_SECONDS)


def _revealed(c: Cohort, week: Week, public: pd.DataFrame, private: pd.DataFrame) -> None:
    tab_private, tab_public, tab_shake = st.tabs(
        ["Private (final)", "Public", "Shake-up"], key="leaderboard_tab", on_change="rerun"
    )
    with tab_private:
        st.caption("Final standings of the week, scored on the private part of the test set.")
        _grid(private, c, week, True)
    with tab_public:
        _grid(public, c, week, False)
    with tab_shake:
        st.caption("How each member moved from the public to the private leaderboard.")
        st.altair_chart(charts.shakeup(private), width="stretch")


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Leaderboard")
    week = ui.pick_week(c)
    st.caption(
        f"{ui.week_label(week)} · {present.metric_caption(week.competition)} · "
        f"{present.week_window(week, utcnow(), c.config.tz)}"
    )
    _board(week)


main()
