"""Submit page: a member proves who they are with their token and submits a week's predictions.

The token is kept for the browser session; only weeks open now are offered (the final
project only to the frozen finalists); a refused file stays attached so it can be fixed
and sent again; a scored file is answered with the member's new public rank.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import cohort_ui as ui
from cohort import present
from cohort.config import Week
from cohort.errors import CohortError
from cohort.scoring import boards, intake
from cohort.sheets import roster as members
from cohort.workspace import Cohort, utcnow

WRONG_TOKEN = (
    "That token matches no member; check it, or ask the organizer for a new one "
    "(`cohort members tokens`)."
)
NOTHING_GIVEN = "Attach a predictions file or give a notebook link, then submit again."
TOKEN_KEY = "member_token"
UPLOAD_ROUND = "submit_upload_round"  # bumped after a success, to empty the file box


def _finalists(c: Cohort) -> set[str]:
    """Handles of the frozen final selection (none before the organizer freezes it)."""
    from cohort.season.selection import frozen

    current = [f for f in frozen(c) if not f.superseded]
    if not current:
        return set()
    return {str(s["handle"]) for s in current[0].result.get("selected", [])}


HONOUR_RULE = (
    "Honour rule: the test data come from public datasets. Do not look the answers up "
    "(or match test rows to the public files); the organizer sees scores beyond what a "
    "model can plausibly reach, shared files and copied notebooks."
)


def open_weeks(c: Cohort, handle: str) -> list[Week]:
    """The weeks this member may submit to now: open ones; the final only for finalists."""
    now = utcnow()
    weeks = [w for w in c.config.weeks if w.opens_at <= now < w.closes_at]
    if any(w.final for w in weeks) and handle not in _finalists(c):
        weeks = [w for w in weeks if not w.final]
    return weeks


def _rank_line(c: Cohort, handle: str, week: Week, score: float, best: float | None) -> str:
    """'You are now 3rd of 24 on the public board; this beats your best (0.9012).'"""
    board = boards.leaderboard(c, week.id)
    mine = next((r for r in board.rows if r.handle == handle), None)
    metric = week.competition.metric
    if best is None:
        verdict = "your first scored file this week"
    elif (score > best) if week.competition.direction == "max" else (score < best):
        verdict = f"it beats your best so far ({present.score(best, metric)})"
    else:
        verdict = f"your best so far ({present.score(best, metric)}) still counts on the board"
    where = (
        f"You are {present.ordinal(mine.rank)} of {len(board.rows)} on the public board"
        if mine
        else "Your rank appears once it is scored"
    )
    return f"{where}; {verdict}."


def _best(c: Cohort, handle: str, week: Week) -> float | None:
    history = boards.member_history(c, handle, include_private=False)
    scores = history[history["week"] == week.id]["public_score"].dropna()
    if scores.empty:
        return None
    return float(scores.max() if week.competition.direction == "max" else scores.min())


def _send(c: Cohort, handle: str, week: Week, upload, given: str) -> bool:  # noqa: ANN001
    """Submit through the same core functions as the CLI; show the validator's answer."""
    link = given.strip() or None
    best = _best(c, handle, week)
    try:
        if upload is not None:
            result = intake.submit_bytes(
                c, handle, week.id, upload.getvalue(), upload.name, notebook_url=link, source="app"
            )
        elif link:
            result = intake.submit(c, handle, week.id, None, link, source="app")
        else:
            st.error(NOTHING_GIVEN)
            return False
    except CohortError as exc:
        st.error(f"Not submitted: {exc}")
        return False
    metric = week.competition.metric
    if result.public_score is None:
        st.success(
            f"Submission {result.submission_id} received ({present.status_label(result.status)})."
        )
    else:
        st.success(
            f"Submission {result.submission_id} scored: public score "
            f"**{present.score(result.public_score, metric)}** "
            f"({present.metric_caption(week.competition)}). "
            + _rank_line(c, handle, week, result.public_score, best)
        )
    for warning in result.warnings:
        st.warning(warning)
    return True


def _form(c: Cohort, handle: str, week: Week) -> None:
    """Link and file; no st.form, so a refused file stays attached for another try."""
    round_ = st.session_state.get(UPLOAD_ROUND, 0)
    link = st.text_input(
        "Notebook link", placeholder="https://www.kaggle.com/code/…", key=f"submit_link_{round_}"
    )
    upload = st.file_uploader(
        "Predictions file (CSV, in the format of sample_submission.csv)",
        type=["csv", "gz", "zip"],
        key=f"submit_file_{round_}",
    )
    sent = st.button("Submit", type="primary", key="submit_send")
    if sent and _send(c, handle, week, upload, link):
        st.session_state[UPLOAD_ROUND] = round_ + 1


def _final_pick(c: Cohort, handle: str, week: Week, mine: pd.DataFrame) -> None:
    """Choose which files count on the private board (default: the best public ones)."""
    limit = week.competition.final_selections
    files = mine[mine["public_score"].notna()]
    if files.empty or limit < 1:
        return
    metric = week.competition.metric
    labels = {
        int(r["submission_id"]): f"#{int(r['submission_id'])} · "
        f"{present.score(r['public_score'], metric)} · {ui.fmt_time(r['submitted_at'], c)}"
        for r in files.to_dict("records")
    }
    chosen = [int(i) for i in files[files["selected"].astype(bool)]["submission_id"]]
    st.subheader("Final selections")
    st.caption(
        f"Pick up to {limit} files to count on the private board when the week closes; "
        "without a pick, your best public ones count."
    )
    picked = st.multiselect(
        "Files that count",
        list(labels),
        default=chosen,
        format_func=lambda i: labels[i],
        max_selections=limit,
        key=f"final_pick_{week.id}",
    )
    if st.button("Save my final selections", key="final_save", disabled=not picked):
        try:
            boards.select_final(c, handle, week.id, picked)
        except CohortError as exc:
            st.error(str(exc))
        else:
            st.success("Saved: " + ", ".join(f"#{i}" for i in sorted(picked)) + " count.")


def _mine(c: Cohort, handle: str, week: Week) -> pd.DataFrame:
    """The member's own submissions to this week (public scores only, until the reveal)."""
    root, stamp = ui.key(c)
    history = ui.history(root, stamp, handle)
    mine = history[history["week"] == week.id]
    if mine.empty:
        return mine
    st.subheader("Your submissions to this week")
    st.dataframe(
        pd.DataFrame(
            {
                "Id": mine["submission_id"],
                "Submitted": mine["submitted_at"].map(lambda t: ui.fmt_time(t, c)),
                "Public score": mine["public_score"].astype(float),
                "Status": mine["status"].map(present.status_label),
                "Counts": mine["selected"].map(lambda s: "✓ picked" if s else ""),
            }
        ),
        hide_index=True,
        placeholder="–",
        width="stretch",
        height=ui.grid_height(len(mine)),
        column_config={
            "Public score": st.column_config.NumberColumn(
                present.metric_label(week.competition.metric),
                format=present.number_format(week.competition.metric),
            )
        },
    )
    return mine


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Submit")
    token = st.text_input(
        "Your personal token",
        type="password",
        help="Issued by the organizer with `cohort members tokens`; kept while this tab is open.",
        key=TOKEN_KEY,
        persist_state="session",
    )
    if not token:
        st.info("Enter the personal token the organizer gave you to submit.")
        return
    member = members.member_for_token(c.store, token)
    if member is None:
        st.error(WRONG_TOKEN)
        return
    st.success(f"Signed in as **{member.name}** ({member.handle}).")
    weeks = open_weeks(c, member.handle)
    if not weeks:
        upcoming = [w for w in c.config.weeks if w.opens_at > utcnow()]
        later = (
            f" {ui.week_label(upcoming[0])} {present.week_window(upcoming[0], utcnow(), c.config.tz)}."
            if upcoming
            else ""
        )
        st.info("No week is open for submissions now." + later)
        return
    week = st.selectbox("Week", weeks, format_func=ui.week_label, key="submit_week")
    st.caption(
        f"{present.metric_caption(week.competition)} · "
        f"{present.week_window(week, utcnow(), c.config.tz)}"
    )
    st.caption(HONOUR_RULE)  # fair competitions: what the leak-proofing cannot prevent
    left = st.empty()
    _form(c, member.handle, week)
    try:
        remaining = intake.remaining_today(c, member.handle, week.id)
    except CohortError as exc:
        left.warning(str(exc))
        return
    left.metric("Submissions left today", f"{remaining} of {week.competition.daily_limit}")
    mine = _mine(c, member.handle, week)
    if not mine.empty:
        _final_pick(c, member.handle, week, mine)


main()
