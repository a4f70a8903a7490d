"""Organizer page: reveal weeks, record contributions, override scores, run challenges, freeze."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import cohort_ui as ui
from cohort import audit, present
from cohort.config import CONTRIBUTION_KINDS
from cohort.errors import CohortError, Conflict
from cohort.scoring import boards
from cohort.season import challenges, contributions, selection
from cohort.workspace import Cohort, utcnow

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
    locked = ui.sign_in_locked()
    if locked:
        st.error(locked)
        return False
    with st.form("sign_in"):
        given = st.text_input("Organizer password", type="password")
        sent = st.form_submit_button("Sign in")
    if sent and ui.password_ok(given):
        st.session_state[SIGNED_IN] = True
        st.rerun()  # draw the page again without the sign-in form
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
    st.caption("Revealing shows the week's private leaderboard to everyone.")
    is_open = not week.is_closed(utcnow())
    close_now = is_open and st.checkbox(
        CLOSE_NOW,
        key="reveal_close_now",
        help="Later submissions are then late: scored for the member, counted on no board.",
    )
    if st.button(
        "Reveal the private leaderboard", key="reveal", disabled=is_open and not close_now
    ):
        _act(
            lambda: boards.reveal(c, week.id, actor, close_now=close_now),
            f"{ui.week_label(week)} is revealed.",
        )


CLOSE_NOW = "Close the week now (it is still open)"


def _contributions(c: Cohort, actor: str, handles: list[str]) -> None:
    week = ui.pick_week(c, key="contrib_week")
    kind = st.selectbox(
        "Kind",
        RECORDED_KINDS,
        format_func=lambda k: f"{present.kind_label(k)}: {CONTRIBUTION_KINDS[k]}",
        key="contrib_kind",
    )
    who = st.multiselect("Members", handles, key="contrib_members")
    value = st.number_input(
        "Value (for a challenge rank: the rank, 1 = winner)",
        min_value=0.0,
        value=1.0,
        step=1.0,
        key="contrib_value",
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
            before = (
                f"Recorded {present.kind_label(kind)} for {', '.join(done)}; then " if done else ""
            )
            st.error(
                f"{before}{handle}: {exc} The members after {handle} were not recorded."
                if handle != who[-1]
                else f"{before}{handle}: {exc}"
            )
            return
        done.append(handle)
    st.session_state[FLASH] = (
        f"Recorded {present.kind_label(kind)} for {len(done)} member(s) in "
        f"{present.week_name(c.config, week_id)}."
    )
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
    pressed = st.button("Override", key="override", disabled=sid is None or not reason.strip())
    if pressed and sid is not None:
        chosen = int(sid)
        _act(
            lambda: boards.override_score(c, chosen, public, private, reason.strip(), actor),
            f"Submission {sid} overridden; the reason is in the audit log.",
        )


def _challenge(c: Cohort, actor: str) -> None:
    running = challenges.current(c)
    if running is not None:
        st.info(
            f"Challenge on {present.week_name(c.config, running.week)} open until "
            f"{ui.fmt_time(running.closes_at, c)}; the workshop screen shows its board, "
            "the join link and the countdown."
        )
        if st.button("Close the challenge now", key="challenge_close"):
            _act(lambda: challenges.close_window(c, actor), "Challenge closed.")
        return
    week = ui.pick_week(c, key="challenge_week")
    minutes = st.number_input("Minutes", min_value=1, max_value=challenges.MAX_MINUTES, value=30)
    if st.button("Open the challenge", key="challenge_open"):
        _act(
            lambda: challenges.open_window(c, week.id, int(minutes), actor),
            f"Challenge on {ui.week_label(week)} open for {int(minutes)} minutes.",
        )
    last = challenges.latest(c)
    if last is not None:
        st.caption(
            f"Last challenge: {present.week_name(c.config, last.week)}, closed "
            f"{ui.fmt_time(last.closes_at, c)}. Each challenge of a week is credited on its own."
        )
        if st.button("Credit its ranks (challenge points)", key="challenge_record"):
            _act(
                lambda: challenges.record_ranks(c, last.id, actor),
                f"Challenge {last.id} credited: ranks recorded for "
                f"{present.week_name(c.config, last.week)}.",
            )


def _freeze(c: Cohort, actor: str) -> None:
    root, stamp = ui.key(c)
    view = ui.standings_view(root, stamp)
    st.caption(
        f"Freezing records these top {c.config.final_size} with the formula and the inputs they "
        "came from. The live standings may move afterwards; the freeze does not."
    )
    preview = view["table"][view["table"]["selected"]]
    st.dataframe(
        preview[["rank", "name", "handle", "total"]].rename(
            columns={"rank": "Rank", "name": "Member", "handle": "Handle", "total": "Points"}
        ),
        hide_index=True,
        width="stretch",
        height=ui.grid_height(len(preview)),
        column_config={"Points": st.column_config.NumberColumn("Points", format="%.2f")},
    )
    if view["ties"]:
        st.warning("Statistical tie at the cut: " + " ".join(view["ties"]))
    if view["frozen"]:
        st.info(f"{view['frozen']}.")
    force = st.checkbox(REPLACE, key="freeze_force")
    if st.button("Freeze these finalists", key="freeze"):
        _act(lambda: _do_freeze(c, actor, force), "Selection frozen.")


REPLACE = "Replace the earlier freeze"


def _do_freeze(c: Cohort, actor: str, force: bool) -> None:
    """The core freeze; its refusal names this page's checkbox instead of the CLI's flag."""
    try:
        selection.freeze(c, actor, force=force)
    except CohortError as exc:
        text = str(exc)
        if "pass --force" in text:
            raise Conflict(
                text.split("; pass --force", 1)[0]
                + f"; tick '{REPLACE}' to freeze again (the old freeze is kept, marked superseded)."
            ) from None
        raise


def _audit(c: Cohort) -> None:
    log = audit.recent_actions(c)
    if log.empty:
        st.caption("No organizer actions yet.")
        return
    shown = pd.DataFrame(
        {
            "When": log["at"].map(lambda t: ui.fmt_time(t, c)),
            "Who": log["actor"],
            "What": log["action"].map(present.action_label),
            "On": log["target"].map(lambda t: present.week_name(c.config, t) if t else ""),
            "Details": log["detail"].map(present.detail_text),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.grid_height(len(shown)))


def _weeks(c: Cohort) -> None:
    """Each week at a glance: its window, whether it is revealed, how many are on its board."""
    root, stamp = ui.key(c)
    now = utcnow()
    rows = []
    for week in c.config.weeks:
        try:
            on_board = int(ui.board(root, stamp, week.id, False)["rows"]["score"].notna().sum())
            shown = "revealed" if ui.revealed(root, stamp, week.id) else "public only"
        except CohortError:
            on_board, shown = 0, "not prepared"
        rows.append(
            {
                "Week": ui.week_label(week),
                "Window": present.week_window(week, now, c.config.tz),
                "Board": shown,
                "Members on the board": on_board,
            }
        )
    st.dataframe(
        pd.DataFrame(rows), hide_index=True, width="stretch", height=ui.grid_height(len(rows))
    )


def _glance(c: Cohort) -> None:
    """One week per member: file and notebook submitted or missing, best public score, flags."""
    from cohort.season.status import week_status

    week = ui.pick_week(c, key="glance_week")
    st_ = week_status(c, week.id)
    m = st_.members
    st.caption(
        f"{st_.state.capitalize()}: {present.week_window(week, utcnow(), c.config.tz)}. "
        f"{int((m['files'] > 0).sum())} of {len(m)} members have a file, "
        f"{int((m['notebook'] != '').sum())} a notebook link."
    )
    shown = pd.DataFrame(
        {
            "Member": m["handle"],
            "Name": m["name"],
            "Files": m["files"],
            "Notebook": m["notebook"].map(lambda u: "yes" if u else present.MISSING),
            "Best public": m["best_public"].map(
                lambda v: present.score(v, week.competition.metric)
            ),
            "Last": m["last_submitted_at"].map(lambda t: ui.fmt_time(t, c)),
            "Flags": m["flags"],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.grid_height(len(shown)))


# --- Flags (fair competitions): suspicious results listed with evidence; nothing changes --------


def _flags(c: Cohort) -> None:
    """`cohort flags` for one week: implausible scores, shared files, near-identical
    predictions, copied notebooks, each with its evidence."""
    from cohort.season.flags import flags

    week = ui.pick_week(c, key="flags_week")
    st.caption(
        "Listed for you to look at; nothing is changed. Act on a flag with "
        "Override a score or Contributions, and write the reason."
    )
    try:
        found = flags(c, week.id)
    except CohortError as exc:
        ui.show_error(exc)
        return
    if not found:
        st.info(f"No suspicious results in {ui.week_label(week)}.")
        return
    shown = pd.DataFrame(
        {
            "Kind": [f.kind.replace("_", " ") for f in found],
            "Members": [", ".join(f.handles) for f in found],
            "Submissions": [", ".join(map(str, f.submissions)) for f in found],
            "Evidence": [f.evidence for f in found],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.grid_height(len(shown)))


SECTIONS = (
    "Weeks",
    "Week at a glance",
    "Reveal",
    "Contributions",
    "Override a score",
    "Live challenge",
    "Freeze",
    "Flags",
    "Audit log",
)
SECTION_KEY = "organizer_section"  # kept in session state: an action never jumps to another


def main() -> None:
    """Render the page."""
    c = ui.cohort()
    st.title("Organizer")
    if not _sign_in():
        return
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    root, stamp = ui.key(c)
    actor = (
        st.text_input(
            "Your name, for the audit log", value="organizer", key="organizer_actor"
        ).strip()
        or "organizer"
    )
    handles = ui.roster(root, stamp)["handle"].tolist()
    section = st.radio(
        "Section", SECTIONS, horizontal=True, key=SECTION_KEY, label_visibility="collapsed"
    )
    if section == "Weeks":
        _weeks(c)
    elif section == "Week at a glance":
        _glance(c)
    elif section == "Reveal":
        _reveal(c, actor)
    elif section == "Contributions":
        _contributions(c, actor, handles)
    elif section == "Override a score":
        _override(c, actor)
    elif section == "Live challenge":
        _challenge(c, actor)
    elif section == "Freeze":
        _freeze(c, actor)
    elif section == "Flags":
        _flags(c)
    else:
        _audit(c)
    if st.sidebar.button("Sign out"):
        st.session_state[SIGNED_IN] = False
        st.rerun()


main()
