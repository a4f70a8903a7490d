"""Leaderboard page: a week's public board; after the reveal, its private board and shake-up."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
import cohort_ui as ui
from cohort.errors import CohortError


def _table(rows: pd.DataFrame, c, private: bool) -> pd.DataFrame:  # noqa: ANN001
    """The columns a member reads, formatted."""
    out = pd.DataFrame(
        {
            "Rank": rows["rank"],
            "Member": rows["handle"],
            "Name": rows["name"],
            "Score": rows["score"].map(ui.fmt_score),
            "Entries": rows["entries"],
            "Last submission": rows["last_submitted_at"].map(lambda t: ui.fmt_time(t, c)),
        }
    )
    if private:
        out["Public rank"] = rows["public_rank"]
        out["Change"] = rows["rank_change"].map(_arrow)
    return out


def _arrow(change: object) -> str:
    if change is None or pd.isna(change):
        return ""
    change = int(change)
    return f"▲ {change}" if change > 0 else f"▼ {-change}" if change < 0 else "="


def _scored(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["score"].notna()]


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    root, stamp = ui.key(c)
    st.title("Leaderboard")
    week = ui.pick_week(c)
    comp = week.competition
    st.caption(
        f"{week.title} · metric **{comp.metric}** ({'higher' if comp.direction == 'max' else 'lower'}"
        f" is better) · closes {ui.fmt_time(week.closes_at, c)}"
    )
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
        return
    if private is None:
        st.subheader(f"Public leaderboard · {len(rows)} members")
        st.caption(
            f"Scored on the public part of the test set. The private leaderboard, which "
            f"counts, is revealed when the week closes ({ui.fmt_time(week.closes_at, c)})."
        )
        st.dataframe(_table(rows, c, False), hide_index=True, width="stretch")
        return
    _revealed(c, rows, _scored(private["rows"]))


def _revealed(c, public: pd.DataFrame, private: pd.DataFrame) -> None:  # noqa: ANN001
    tab_private, tab_public, tab_shake = st.tabs(["Private (final)", "Public", "Shake-up"])
    with tab_private:
        st.caption("Final standings of the week, scored on the private part of the test set.")
        st.dataframe(_table(private, c, True), hide_index=True, width="stretch")
    with tab_public:
        st.dataframe(_table(public, c, False), hide_index=True, width="stretch")
    with tab_shake:
        st.caption("How each member moved from the public to the private leaderboard.")
        st.altair_chart(charts.shakeup(private), width="stretch")


main()
