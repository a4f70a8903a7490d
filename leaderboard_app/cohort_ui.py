"""What every page shares: opening the cohort, cached reads, identity checks, formatting.

Pages read through the cached functions below. Each cache is keyed on the
cohort root and `cohort.revision.stamp`, a single indexed query, so a page on a
cohort of 50,000 submissions costs one cheap query until something changes.
Nothing here ranks or scores: the functions call the same core functions as
the CLI and only reshape their answers for display.
"""

from __future__ import annotations

import hmac
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from cohort import present, revision, textsafe
from cohort.config import CONTRIBUTION_KINDS, Week
from cohort.errors import CohortError
from cohort.scoring import boards
from cohort.scoring.solution import load_solution
from cohort.season import challenges, contributions
from cohort.season.selection import frozen, select
from cohort.sheets import roster as members
from cohort.workspace import Cohort, utcnow

PASSWORD_ENV = "COHORT_ORGANIZER_PASSWORD"
PASSWORD_SECRET = "organizer_password"
ROOT_ENV = "COHORT_ROOT"


# ---------------------------------------------------------------- the cohort


@st.cache_resource(show_spinner=False)
def _open(root: str, db_url: str) -> Cohort:
    from cohort.store import revision

    # The app keeps what its views derive in memory and reads what commands stored, but stores
    # nothing itself: a page view does not pay for writes only another process would read.
    revision.read_stored_only()
    return Cohort.open(Path(root), db_url or None)


def cohort() -> Cohort:
    """The cohort at COHORT_ROOT, else the current directory; stops the page with a hint."""
    from cohort.config import find_root

    apply_secrets()
    start = os.environ.get(ROOT_ENV)
    try:
        root = find_root(Path(start) if start else None)
        return _open(str(root), os.environ.get("COHORT_DATABASE_URL", ""))
    except CohortError as exc:
        st.error(f"Cannot open the cohort: {exc}")
        st.stop()
        raise  # unreachable: st.stop ends the script run


# The hosted set-up (docs/hosting.md): Streamlit secrets may hold what the environment
# would, so a server or Streamlit Community Cloud needs only .streamlit/secrets.toml.
SECRET_ENV = {
    "database_url": "COHORT_DATABASE_URL",
    "submissions_dir": "COHORT_SUBMISSIONS_DIR",
}


def apply_secrets() -> None:
    """Copy database_url and submissions_dir from Streamlit secrets into the environment
    the core reads, unless the environment already sets them."""
    for secret, env in SECRET_ENV.items():
        if os.environ.get(env):
            continue
        try:
            value = st.secrets.get(secret, "")
        except Exception:  # noqa: BLE001 - no or a malformed secrets.toml: nothing to apply
            return
        if value:
            os.environ[env] = str(value)


def key(c: Cohort) -> tuple[str, tuple[Any, ...]]:
    """The cache key of everything pages show: the root and the store's change stamp."""
    return str(c.root), revision.stamp(c)


def show_error(exc: CohortError) -> None:
    """A core error, as the one line the CLI would print."""
    st.error(str(exc))


# ---------------------------------------------------------------- weeks


def week_label(week: Week) -> str:
    """'Week 1 · Pets' for a select box (present.week_label, shared with the CLI)."""
    return present.week_label(week)


def current_week(c: Cohort, now: datetime | None = None) -> Week:
    """The week open now; else the latest one that has opened; else the first (as `cohort status`)."""
    from cohort.season.status import current_week as week_now

    return week_now(c, now)


def pick_week(
    c: Cohort, label: str = "Week", key: str = "week", weeks: tuple[Week, ...] | None = None
) -> Week:
    """A week select box; `?week=` (id, number or slug) preselects, else the current week."""
    weeks = weeks or c.config.weeks
    chosen = current_week(c)
    asked = st.query_params.get("week")
    if asked:
        try:
            chosen = c.config.week(asked)
        except CohortError:
            st.warning(
                f"No week '{textsafe.markdown(asked, 40)}' in this cohort; showing the current week."
            )
    index = next((i for i, w in enumerate(weeks) if w.id == chosen.id), 0)
    return st.selectbox(label, weeks, index=index, format_func=week_label, key=key)


# ---------------------------------------------------------------- cached reads


@st.cache_data(show_spinner=False, max_entries=256)
def board(root: str, stamp: tuple[Any, ...], week_id: str, private: bool) -> dict[str, Any]:
    """A week's leaderboard as a frame plus its metric, direction and reveal state."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    lb = boards.leaderboard(c, week_id, private=private)
    rows = pd.DataFrame([_row_dict(r) for r in lb.rows], columns=BOARD_COLUMNS)
    return {
        "rows": rows,
        "revealed": bool(lb.revealed),
        "metric": lb.metric,
        "direction": lb.direction,
    }


BOARD_COLUMNS = [
    "rank",
    "handle",
    "name",
    "score",
    "entries",
    "last_submitted_at",
    "submission_id",
    "public_rank",
    "rank_change",
]


def _row_dict(row: Any) -> dict[str, Any]:
    return {col: getattr(row, col, None) for col in BOARD_COLUMNS}


@st.cache_data(show_spinner=False, max_entries=64)
def revealed(root: str, stamp: tuple[Any, ...], week_id: str) -> bool:
    """Whether a week's private board may be shown."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    return bool(boards.is_revealed(c, week_id))


@st.cache_data(show_spinner=False, max_entries=16)
def roster(root: str, stamp: tuple[Any, ...]) -> pd.DataFrame:
    """Handles and names only: emails and token hashes never leave the core."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    rows = [{"handle": m.handle, "name": m.name} for m in members.list_members(c.store)]
    return pd.DataFrame(rows, columns=["handle", "name"])


@st.cache_data(show_spinner=False, max_entries=256)
def history(root: str, stamp: tuple[Any, ...], handle: str) -> pd.DataFrame:
    """A member's submissions, newest first; private scores only for revealed weeks."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    return boards.member_history(c, handle, include_private=False)


@st.cache_data(show_spinner=False, max_entries=32)
def baseline(root: str, week_id: str, solution_sha: str) -> float | None:
    """The public score of the week's baseline model, as stored when the week was prepared.

    Never trained here: `cohort prepare` scores the baseline once (`prepare.record_baseline`);
    a week prepared before that, or without a baseline, has no line. Keyed on the solution.
    """
    from cohort.weeks import prepare

    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    try:
        record = prepare.stored_baseline(c, week_id)
    except CohortError:
        return None
    value = None if record is None else record.get("public_score")
    return None if value is None else float(value)


def solution_sha(c: Cohort, week_id: str) -> str:
    """The hash of a week's solution ('' when it is not prepared), to key the baseline on."""
    try:
        return load_solution(c, week_id).sha256
    except CohortError:
        return ""


@st.cache_data(show_spinner=False, max_entries=16)
def challenge_board(root: str, stamp: tuple[Any, ...], challenge_id: int) -> pd.DataFrame:
    """The open challenge's board (public scores of submissions inside the window)."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    running = challenges.latest(c)
    if running is None or running.id != challenge_id:
        return pd.DataFrame(columns=challenges.BOARD_COLUMNS)
    return challenges.board(c, running)


# ---------------------------------------------------------------- layout

GRID_ROW_PX = 35
GRID_MAX_ROWS = 60  # grids show every row up to this many; longer ones scroll inside


def grid_height(rows: int) -> int:
    """A dataframe height showing every row (no inner scroll box) up to GRID_MAX_ROWS."""
    return GRID_ROW_PX * (min(max(rows, 1), GRID_MAX_ROWS) + 1) + 3


def compact() -> bool:
    """True on a phone (its browser says 'Mobile'), or with `?compact=1`: fewer columns."""
    if st.query_params.get("compact") in ("1", "true"):
        return True
    try:
        agent = str(st.context.headers.get("User-Agent", ""))
    except Exception:  # noqa: BLE001 - no request headers outside a browser session (tests)
        agent = ""
    return "Mobi" in agent or "Android" in agent


def updated(c: Cohort, every: int) -> None:
    """The 'updated at' line under a self-refreshing board."""
    st.caption(
        f"Updated {present.when(utcnow(), c.config.tz, with_day=False)} · refreshes every {every} s"
    )


# ---------------------------------------------------------------- the join link

PUBLIC_URL_ENV = "COHORT_PUBLIC_URL"
PUBLIC_URL_SECRET = "public_url"


def join_url() -> str:
    """The Submit page's address for the projector: `public_url` (secrets or COHORT_PUBLIC_URL),
    else the address this browser opened the app at."""
    try:
        base = str(st.secrets.get(PUBLIC_URL_SECRET, "") or "")
    except Exception:  # noqa: BLE001 - no or a malformed secrets.toml: fall back below
        base = ""
    base = base or os.environ.get(PUBLIC_URL_ENV, "")
    if not base:
        try:
            base = str(st.context.url or "")
        except Exception:  # noqa: BLE001 - outside a browser session (tests) there is no URL
            base = ""
        base = base.split("?", 1)[0]
        for tail in ("/workshop", "/submit"):
            base = base.removesuffix(tail)
    return (base.rstrip("/") + "/submit") if base else "/submit"


@st.cache_data(show_spinner=False, max_entries=8)
def qr_data_uri(url: str) -> str:
    """The URL as a QR code (an SVG data URI, drawn by segno in pure Python)."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=8, border=2))


# ---------------------------------------------------------------- identity


def organizer_password() -> str:
    """The organizer password from Streamlit secrets, else the environment ('' = none set)."""
    try:
        secret = st.secrets.get(PASSWORD_SECRET, "")
    except (FileNotFoundError, KeyError, AttributeError, st.errors.StreamlitAPIException):
        secret = ""
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not crash the board
        secret = ""
    return str(secret or os.environ.get(PASSWORD_ENV, ""))


@st.cache_resource(show_spinner=False)
def _lockout() -> Any:
    from cohort.lockout import Lockout

    return Lockout()  # one per app process: it counts every browser session's guesses


def sign_in_locked() -> str:
    """The lockout message while too many wrong passwords lock sign-in, else ''."""
    lock = _lockout()
    return lock.message() if lock.seconds_left() > 0 else ""


def password_ok(given: str) -> bool:
    """Constant-time check of an organizer password; False when none is configured, and
    for every try while repeated failures lock sign-in (cohort.lockout)."""
    expected = organizer_password()
    return bool(expected) and _lockout().attempt(
        lambda: hmac.compare_digest(given.encode(), expected.encode())
    )


# ---------------------------------------------------------------- formatting


def fmt_score(value: Any, metric: str = "") -> str:
    """A score for display with the metric's decimals; '–' when there is none."""
    return present.score(value, metric)


def fmt_time(value: Any, c: Cohort) -> str:
    """A timestamp in the cohort's timezone, to the minute, with the zone's label."""
    return present.when(value, c.config.tz)


@st.cache_data(show_spinner=False, max_entries=64)
def latest(
    root: str, stamp: tuple[Any, ...], week_id: str, since: Any = None, until: Any = None
) -> list[dict[str, Any]]:
    """The newest scored files of a week (public scores only), for the workshop strip."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    frame = boards.latest_submissions(c, week_id, limit=8, since=since, until=until)
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


@st.cache_data(show_spinner=False, max_entries=256)
def events(root: str, stamp: tuple[Any, ...], handle: str) -> pd.DataFrame:
    """A member's current contribution events, the columns a member may see."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    frame = contributions.events(c, handle)
    shown = ["week", "kind", "value", "note", "recorded_at"]
    return frame[[col for col in shown if col in frame.columns]].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def standings_view(root: str, stamp: tuple[Any, ...]) -> dict[str, Any]:
    """The standings and the selection, reshaped for the page (one frame, the cut, tie lines)."""
    c = _open(root, os.environ.get("COHORT_DATABASE_URL", ""))
    selection = select(c)
    table = selection.standings.table
    comps = [
        k
        for k in (*selection.standings.weeks, *CONTRIBUTION_KINDS)
        if k in table.columns and (table[k] != 0).any()
    ]
    flagged = [t for t in selection.ties if t.flagged]
    tied = {h for t in flagged for h in (t.above, t.below)}
    frame = (
        table[["rank", "handle", "name", "total", *comps]]
        .reset_index(drop=True)
        .assign(
            selected=table["handle"].isin({s.handle for s in selection.selected}).to_numpy(),
            tied=table["handle"].isin(tied).to_numpy(),
        )
    )
    freezes = [f for f in frozen(c) if not f.superseded]
    return {
        "table": frame,
        "components": comps,
        "cut": selection.top,
        "selected": [s.handle for s in selection.selected],
        "ties": [
            f"{t.above} stays ahead of {t.below} in only {t.probability:.0%} of "
            f"{selection.samples} resamples of the test rows."
            for t in flagged
        ],
        "below_cut": [
            {
                "Rank": b.rank,
                "Member": b.handle,
                "Name": b.name,
                "Total": round(b.total, 2),
                "Why below": b.note,
            }
            for b in selection.below_cut
        ],
        "unrevealed": selection.unrevealed,
        "labels": {k: present.column_label(c.config, k) for k in comps},
        "frozen": None
        if not freezes
        else f"Frozen {present.when_full(freezes[0].frozen_at, c.config.tz)} by "
        f"{freezes[0].frozen_by}",
    }
