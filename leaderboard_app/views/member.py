"""Member page: one member's submissions and scores, their score over time, contributions, notebooks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
import cohort_ui as ui
from cohort import present
from cohort.errors import CohortError


def _pick_member(roster: pd.DataFrame) -> str:
    """A member select box; `?member=handle` preselects (and is kept for sharing the page)."""
    handles = roster["handle"].tolist()
    names = dict(zip(roster["handle"], roster["name"], strict=True))
    asked = st.query_params.get("member")
    index = handles.index(asked) if asked in handles else 0
    handle = st.selectbox("Member", handles, index=index, format_func=lambda h: f"{names[h]} ({h})")
    st.query_params["member"] = handle
    return handle


def _submissions(history: pd.DataFrame, c, compact: bool) -> pd.DataFrame:  # noqa: ANN001
    """Scores stay numbers; a hidden private score is empty, never a placeholder with a value."""
    week = history["week"].map(lambda w: present.week_name(c.config, w, short=compact))
    out = pd.DataFrame(
        {
            "Week": week,
            "Public": history["public_score"].astype(float),
            "Private": history["private_score"].astype(float),
            "Submitted": history["submitted_at"].map(lambda t: ui.fmt_time(t, c)),
        }
    )
    if compact:
        return out
    out.insert(0, "Id", history["submission_id"])
    out["Status"] = history["status"].map(present.status_label)
    out["Final pick"] = history["selected"].map(lambda s: "✓" if s else "")
    out["Problem"] = history["error"]
    return out


SCORE_COLUMNS = {
    "Public": st.column_config.NumberColumn("Public", format="%.4f"),
    "Private": st.column_config.NumberColumn(
        "Private", format="%.4f", help="Shown once the week's private board is revealed"
    ),
    "Week": st.column_config.TextColumn("Week", pinned=True),
}


def _chart(c, root: str, history: pd.DataFrame) -> None:  # noqa: ANN001
    scored = history[history["public_score"].notna()]
    if scored.empty:
        return
    entered = set(scored["week"])
    weeks = [w for w in c.config.weeks if w.id in entered]
    week = st.selectbox(
        "Score over time for", weeks, index=len(weeks) - 1, format_func=ui.week_label
    )
    baseline = ui.baseline(root, week.id, ui.solution_sha(c, week.id))
    metric = week.competition.metric
    chart = charts.score_over_time(
        scored[scored["week"] == week.id],
        baseline,
        present.metric_label(metric),
        present.decimals(metric),
    )
    st.altair_chart(chart, width="stretch")
    if baseline is not None:
        st.caption(
            f"Dashed line: the week's baseline model, public score "
            f"{ui.fmt_score(baseline, metric)} ({present.metric_caption(week.competition)})."
        )


def _notebooks(c, history: pd.DataFrame) -> None:  # noqa: ANN001
    links = history[history["notebook_url"].fillna("").astype(str) != ""]
    st.subheader("Notebooks")
    if links.empty:
        st.caption("No notebook links yet.")
        return
    table = links.drop_duplicates("notebook_url")[["week", "notebook_url"]]
    table = table.assign(week=table["week"].map(lambda w: present.week_name(c.config, w)))
    st.dataframe(
        table.rename(columns={"week": "Week", "notebook_url": "Notebook"}),
        hide_index=True,
        placeholder="–",
        column_config={"Notebook": st.column_config.LinkColumn("Notebook")},
    )


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    root, stamp = ui.key(c)
    st.title("Member")
    roster = ui.roster(root, stamp)
    if roster.empty:
        st.info(
            "No members yet: the organizer imports them with `cohort members import members.csv`."
        )
        return
    handle = _pick_member(roster)
    try:
        history = ui.history(root, stamp, handle)
        events = ui.events(root, stamp, handle)
    except CohortError as exc:
        ui.show_error(exc)
        return
    st.subheader("Submissions")
    if history.empty:
        st.info("No submissions yet.")
    else:
        st.dataframe(
            _submissions(history, c, ui.compact()),
            hide_index=True,
            placeholder="–",
            width="stretch",
            height=ui.grid_height(len(history)),
            column_config=SCORE_COLUMNS,
        )
        _chart(c, root, history)
    st.subheader("Contributions")
    if events.empty:
        st.caption("No contributions recorded yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "Week": events["week"].map(
                        lambda w: present.week_name(c.config, w) if w else "Any week"
                    ),
                    "Kind": events["kind"].map(present.kind_label),
                    "Value": events["value"],
                    "Note": events["note"],
                    "Recorded": events["recorded_at"].map(lambda t: ui.fmt_time(t, c)),
                }
            ),
            hide_index=True,
            placeholder="–",
            width="stretch",
        )
    if not history.empty:
        _notebooks(c, history)


main()
