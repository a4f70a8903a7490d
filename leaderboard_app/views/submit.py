"""Submit page: a member proves who they are with their token and submits a week's predictions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import cohort_ui as ui
from cohort.errors import CohortError
from cohort.scoring import intake
from cohort.sheets import roster as members
from cohort.workspace import Cohort

WRONG_TOKEN = (
    "That token matches no member; check it, or ask the organizer for a new one "
    "(`cohort members tokens`)."
)
NOTHING_GIVEN = "Attach a predictions file or give a notebook link, then submit again."


def _send(c: Cohort, handle: str, week_id: str, upload, link: str) -> None:  # noqa: ANN001
    """Submit through the same core functions as the CLI; show the validator's answer."""
    link = link.strip() or None
    try:
        if upload is not None:
            result = intake.submit_bytes(
                c, handle, week_id, upload.getvalue(), upload.name, notebook_url=link, source="app"
            )
        elif link:
            result = intake.submit(c, handle, week_id, None, link, source="app")
        else:
            st.error(NOTHING_GIVEN)
            return
    except CohortError as exc:
        st.error(f"Not submitted: {exc}")
        return
    score = (
        ""
        if result.public_score is None
        else f" Public score: **{ui.fmt_score(result.public_score)}**."
    )
    st.success(f"Submission {result.submission_id} received ({result.status}).{score}")
    for warning in result.warnings:
        st.warning(warning)


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Submit")
    token = st.text_input(
        "Your personal token",
        type="password",
        help="Issued by the organizer with `cohort members tokens`.",
    )
    if not token:
        st.info("Enter the personal token the organizer gave you to submit.")
        return
    member = members.member_for_token(c.store, token)
    if member is None:
        st.error(WRONG_TOKEN)
        return
    st.success(f"Signed in as **{member.name}** ({member.handle}).")
    week = ui.pick_week(c, key="submit_week")
    left = st.empty()
    with st.form("submission", clear_on_submit=True):
        link = st.text_input("Notebook link", placeholder="https://www.kaggle.com/code/…")
        upload = st.file_uploader(
            "Predictions file (CSV, in the format of sample_submission.csv)",
            type=["csv", "gz", "zip"],
        )
        sent = st.form_submit_button("Submit", type="primary")
    if sent:
        _send(c, member.handle, week.id, upload, link)
    try:
        remaining = intake.remaining_today(c, member.handle, week.id)
    except CohortError as exc:
        left.warning(str(exc))
        return
    left.metric("Submissions left today", f"{remaining} of {week.competition.daily_limit}")
    _mine(c, member.handle, week.id)


def _mine(c: Cohort, handle: str, week_id: str) -> None:
    """The member's own submissions to this week (public scores only, until the reveal)."""
    root, stamp = ui.key(c)
    history = ui.history(root, stamp, handle)
    mine = history[history["week"] == week_id]
    if mine.empty:
        return
    st.subheader("Your submissions to this week")
    st.dataframe(
        pd.DataFrame(
            {
                "Id": mine["submission_id"],
                "Submitted": mine["submitted_at"].map(lambda t: ui.fmt_time(t, c)),
                "Public score": mine["public_score"].map(ui.fmt_score),
                "Status": mine["status"],
            }
        ),
        hide_index=True,
        width="stretch",
    )


main()
