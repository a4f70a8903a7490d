"""Organizer page: reveal weeks, record contributions, override scores, run challenges, freeze."""

from __future__ import annotations

import streamlit as st

import cohort_ui as ui
from cohort import audit
from cohort.config import CONTRIBUTION_KINDS
from cohort.errors import CohortError
from cohort.scoring import boards
from cohort.season import challenges, contributions, selection
from cohort.workspace import Cohort

SIGNED_IN = "organizer_signed_in"  # a session-state key no widget uses, so no URL can set it
FLASH = "organizer_flash"
NO_PASSWORD = (
    "The Organizer page is off: set COHORT_ORGANIZER_PASSWORD, or organizer_password "
    "in .streamlit/secrets.toml, and restart the app."
)
WRONG_PASSWORD = "Wrong organizer password; try again, or ask whoever runs the app."
RECORDED_KINDS = ("attended", "presented", "helped", "beyond_minimum", "challenge_rank")


def _sign_in() -> bool:
    """True once this browser session gave the right password."""
    if st.session_state.get(SIGNED_IN):
        return True
    if not ui.organizer_password():
        st.warning(NO_PASSWORD)
        return False
    with st.form("sign_in"):
        given = st.text_input("Organizer password", type="password")
        sent = st.form_submit_button("Sign in")
    if sent and ui.password_ok(given):
        st.session_state[SIGNED_IN] = True
        return True
    if sent:
        st.error(WRONG_PASSWORD)
    return False


def _act(action, success: str) -> None:  # noqa: ANN001
    """Run one core action; show its CohortError as one line instead of a traceback.

    On success the page reruns, so every tab shows the new state, and says what was done.
    """
    try:
        action()
    except CohortError as exc:
        ui.show_error(exc)
    else:
        st.session_state[FLASH] = success
        st.rerun()


def _reveal(c: Cohort, actor: str) -> None:
    week = ui.pick_week(c, "Week to reveal", key="reveal_week")
    st.caption("Revealing shows the week's private leaderboard to everyone, before it closes.")
    if st.button("Reveal the private leaderboard", key="reveal"):
        _act(lambda: boards.reveal(c, week.id, actor), f"{week.id} is revealed.")


def _contributions(c: Cohort, actor: str, handles: list[str]) -> None:
    week = ui.pick_week(c, key="contrib_week")
    kind = st.selectbox(
        "Kind", RECORDED_KINDS, format_func=lambda k: f"{k}: {CONTRIBUTION_KINDS[k]}"
    )
    who = st.multiselect("Members", handles)
    value = st.number_input(
        "Value (the rank, for challenge_rank)", min_value=0.0, value=1.0, step=1.0
    )
    note = st.text_input("Note", key="contrib_note")
    if st.button("Record", key="record", disabled=not who):
        _record(c, actor, who, kind, value, week.id, note)


def _record(
    c: Cohort, actor: str, who: list[str], kind: str, value: float, week_id: str, note: str
) -> None:
    """One event per member; a refusal names who was recorded before it."""
    done: list[str] = []
    for handle in who:
        try:
            contributions.add(
                c, handle, kind, value=value, week_ref=week_id, note=note, actor=actor
            )
        except CohortError as exc:
            before = f"Recorded {kind} for {', '.join(done)}; then " if done else ""
            st.error(
                f"{before}{handle}: {exc} The members after {handle} were not recorded."
                if handle != who[-1]
                else f"{before}{handle}: {exc}"
            )
            return
        done.append(handle)
    st.session_state[FLASH] = f"Recorded {kind} for {len(done)} member(s) in {week_id}."
    st.rerun()


def _override(c: Cohort, actor: str) -> None:
    sid = st.number_input("Submission id", min_value=1, step=1, value=None, key="override_id")
    public = st.number_input(
        "New public score",
        value=None,
        format="%.6f",
        key="override_public",
        help="Leave empty to keep the scored value.",
    )
    private = st.number_input(
        "New private score",
        value=None,
        format="%.6f",
        key="override_private",
        help="Leave empty to keep the scored value.",
    )
    reason = st.text_input("Reason (kept in the audit log)", key="override_reason")
    if st.button("Override", key="override", disabled=sid is None or not reason.strip()):
        _act(
            lambda: boards.override_score(c, int(sid), public, private, reason.strip(), actor),
            f"Submission {sid} overridden; the reason is in the audit log.",
        )


def _challenge(c: Cohort, actor: str) -> None:
    running = challenges.current(c)
    if running is not None:
        st.info(
            f"Challenge on {running.week} open until {ui.fmt_time(running.closes_at, c)}; "
            "the workshop screen shows its board."
        )
        if st.button("Close the challenge now", key="challenge_close"):
            _act(lambda: challenges.close_window(c, actor), "Challenge closed.")
        return
    week = ui.pick_week(c, key="challenge_week")
    minutes = st.number_input("Minutes", min_value=1, max_value=challenges.MAX_MINUTES, value=30)
    if st.button("Open the challenge", key="challenge_open"):
        _act(
            lambda: challenges.open_window(c, week.id, int(minutes), actor),
            f"Challenge on {week.id} open for {int(minutes)} minutes.",
        )
    last = challenges.latest(c)
    if last is not None:
        st.caption(f"Last challenge: {last.week}, closed {ui.fmt_time(last.closes_at, c)}.")
        if st.button("Record its ranks as challenge_rank contributions", key="challenge_record"):
            _act(
                lambda: challenges.record_ranks(c, last.id, actor),
                f"Challenge ranks recorded for {last.week}.",
            )


def _freeze(c: Cohort, actor: str) -> None:
    st.caption(
        f"Freezing records the top {c.config.final_size} with the formula and inputs they "
        "came from; re-freezing needs 'replace'."
    )
    force = st.checkbox("Replace an earlier freeze", key="freeze_force")
    if st.button("Freeze the final selection", key="freeze"):
        _act(lambda: selection.freeze(c, actor, force=force), "Selection frozen.")


def _audit(c: Cohort) -> None:
    log = audit.recent_actions(c)
    if log.empty:
        st.caption("No organizer actions yet.")
    else:
        st.dataframe(log, hide_index=True, width="stretch")


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Organizer")
    if not _sign_in():
        return
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    root, stamp = ui.key(c)
    actor = st.text_input("Your name, for the audit log", value="organizer").strip() or "organizer"
    handles = ui.roster(root, stamp)["handle"].tolist()
    tabs = st.tabs(
        ["Reveal", "Contributions", "Override a score", "Live challenge", "Freeze", "Audit log"]
    )
    with tabs[0]:
        _reveal(c, actor)
    with tabs[1]:
        _contributions(c, actor, handles)
    with tabs[2]:
        _override(c, actor)
    with tabs[3]:
        _challenge(c, actor)
    with tabs[4]:
        _freeze(c, actor)
    with tabs[5]:
        _audit(c)
    if st.sidebar.button("Sign out"):
        st.session_state[SIGNED_IN] = False
        st.rerun()


main()
