"""Leaderboards, reveal, final selections, overrides and a member's history.

The privacy rule lives here: private scores are shown only once a week is revealed
(explicitly, or by closing).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cohort.config import Competition, Week
from cohort.errors import AccessDenied, Conflict, IntakeRefused, ValidationError
from cohort.scoring import SCORER_VERSION, board_rows, deadlines
from cohort.store import audit
from cohort.store import members as store_members
from cohort.store import scores as store_scores
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    # pandas and numpy are imported where a frame is built: `cohort leaderboard` reads rows
    import pandas as pd


# --- reveal -----------------------------------------------------------------------------


def is_revealed(cohort: Cohort, week_ref: str, now: datetime | None = None) -> bool:
    """True once the week was revealed with `cohort reveal`, or has closed."""
    week = cohort.config.week(week_ref)
    if week.is_closed(now or utcnow()):
        return True
    with cohort.store.transaction() as tx:
        return store_scores.revealed_at(tx, week.id) is not None


def reveal(
    cohort: Cohort,
    week_ref: str,
    actor: str,
    close_now: bool = False,
    at: datetime | None = None,
) -> datetime:
    """Reveal the week's private leaderboard (audit-logged); returns when it was revealed.

    Revealing an open week closes it at that moment, so it needs `close_now`: every later
    submission is a late one (scored for the member, counted nowhere). A second reveal
    changes nothing. `at` is the moment (default now)."""
    week = cohort.config.week(week_ref)
    now = at or utcnow()
    with cohort.store.transaction() as tx:
        already = store_scores.revealed_at(tx, week.id)
        if already is not None:
            return already
        if not week.is_closed(now) and not close_now:
            raise Conflict(
                f"Week '{week.id}' is open until {_local(cohort, week.closes_at)}; revealing it "
                f"now also closes it now (later submissions are late and count on no board): "
                f"rerun with --close-now, or wait for the close."
            )
        store_scores.set_revealed(tx, week.id, now, actor)
        early = {} if week.is_closed(now) else {"closed_early": True, "closes": now.isoformat()}
        audit.record(tx, now, actor, "reveal", week.id, **early)
    return now


def _local(cohort: Cohort, when: datetime) -> str:
    return when.astimezone(cohort.config.tz).strftime("%Y-%m-%d %H:%M %Z")


def week_has_scores(cohort: Cohort, week_ref: str) -> bool:
    """True when any submission of the week has been scored."""
    week = cohort.config.week(week_ref)
    with cohort.store.transaction() as tx:
        return store_scores.week_has_scores(tx, week.id)


# --- leaderboards ---------------------------------------------------------------------------


# One member's line on a week's leaderboard, and a board: `cohort leaderboard` builds the same
# rows on the database driver (scoring.board_rows), so the classes and the ranking live there.
LeaderboardRow = board_rows.Row
Leaderboard = board_rows.Board


# The last few week frames, keyed on the store's revision (bumped by every write).
# The engine is held weakly and compared by identity: a database recreated at the same URL
# (its revision starting over) never matches a frame of the old one.
_FRAMES: dict[tuple[str, str, int | None], tuple[Any, Any, Any]] = {}
_FRAMES_KEPT = 16


def week_frame(cohort: Cohort, week: Week, member_id: int | None = None) -> pd.DataFrame:
    """The week's submissions with their current scores (overrides applied).

    Deactivated members' submissions are left out (they stay in the store and in their
    own history), so every board, standing, tie check and export drops them alike."""
    from cohort.store import revision as store_revision

    key = (cohort.store.url, week.id, member_id)
    with cohort.store.transaction() as tx:
        now = store_revision.current(tx)
    kept = _FRAMES.get(key)
    if kept is not None and kept[0]() is cohort.store.engine and kept[1] == now:
        return kept[2].copy()
    frame = _week_frame(cohort, week, member_id)
    if len(_FRAMES) >= _FRAMES_KEPT:
        _FRAMES.pop(next(iter(_FRAMES)))
    _FRAMES[key] = (weakref.ref(cohort.store.engine), now, frame.copy())
    return frame


def _week_frame(cohort: Cohort, week: Week, member_id: int | None) -> pd.DataFrame:
    from cohort.store import members as store_members

    with cohort.store.transaction() as tx:
        sha = store_scores.scored_sha(tx, week.id)
        frame = store_subs.scored_frame(tx, {week.id: sha}, SCORER_VERSION, member_id)
        inactive = store_members.inactive_ids(tx)
        extended = deadlines.extensions(tx, week)
        revealed = store_scores.revealed_at(tx, week.id)
    if inactive and member_id is None:
        frame = frame[~frame["member_id"].isin(inactive)].reset_index(drop=True)
    late = late_mask(frame, week, extended, revealed)
    return frame[~late].reset_index(drop=True) if late.any() else frame


def late_mask(
    frame: pd.DataFrame, week: Week, extended: dict[str, datetime], revealed: datetime | None
) -> pd.Series:
    """True for the late submissions: at or after the member's deadline (the close, or their
    extension), or after a reveal, which closes the week for everyone at that moment."""
    import pandas as pd

    late = frame["submitted_at"] >= pd.Timestamp(week.closes_at)
    if extended and late.any():
        until = pd.to_datetime(frame["handle"].map(extended), utc=True)
        late &= ~(frame["submitted_at"] < until).fillna(False)
    if revealed is not None:
        late |= frame["submitted_at"] >= pd.Timestamp(revealed)
    return late


def _sort_key(frame: pd.DataFrame, col: str, direction: str) -> pd.DataFrame:
    """Best first; ties go to the earlier submission, then the lower id."""
    key = frame[col] if direction == "min" else -frame[col]
    return (
        frame.assign(_k=key).sort_values(["_k", "submitted_at", "submission_id"]).drop(columns="_k")
    )


def best_per_member(frame: pd.DataFrame, col: str, direction: str) -> pd.DataFrame:
    """Each member's best submission by `col`, ranked 1..n (ties: earlier submission first)."""
    scored = _sort_key(frame[frame[col].notna()], col, direction)
    best = scored.drop_duplicates("member_id", keep="first").reset_index(drop=True)
    import numpy as np

    return best.assign(rank=np.arange(1, len(best) + 1))


def counted_ids(frame: pd.DataFrame, direction: str, limit: int) -> dict[str, list[int]]:
    """Per handle: the selected submissions, else the best `limit` by public score."""
    scored = _sort_key(frame[frame["public_score"].notna()], "public_score", direction)
    selected = scored["selected"].astype(bool)
    by_member = scored.groupby("handle", sort=False)
    # Whole-column operations, not a loop of DataFrame slices: this runs for every board view,
    # and a per-member loop made the standings page scale with the number of members.
    has_choice = selected.groupby(scored["handle"], sort=False).transform("any")
    keep = (has_choice & selected) | (~has_choice & (by_member.cumcount() < limit))
    out: dict[str, list[int]] = {}
    for handle, sid in zip(
        scored.loc[keep, "handle"].tolist(), scored.loc[keep, "submission_id"].tolist(), strict=True
    ):
        out.setdefault(str(handle), []).append(int(sid))
    return dict(sorted(out.items()))


def _hidden(cohort: Cohort, week: Week) -> AccessDenied:
    local = week.closes_at.astimezone(cohort.config.tz).strftime("%Y-%m-%d %H:%M %Z")
    return AccessDenied(
        f"Week '{week.id}' private leaderboard is hidden until the week is revealed "
        f"(it closes {local}); the organizer can run `cohort reveal {week.id}`."
    )


def leaderboard(
    cohort: Cohort, week_ref: str, private: bool = False, now: datetime | None = None
) -> Leaderboard:
    """One row per member: best public score, or (after reveal) the private score of the counted ones."""
    week = cohort.config.week(week_ref)
    revealed = is_revealed(cohort, week.id, now)
    if private and not revealed:
        raise _hidden(cohort, week)
    comp = week.competition
    from cohort.store import revision as store_revision

    with cohort.store.transaction() as tx:
        # Kept on the week's counter: after a new entry in one week the others' boards stand.
        rows = store_revision.by_weeks(
            tx,
            f"board:{private}",
            [week.id],
            (revealed, *lines_key(week)),
            lambda: _board_rows(cohort, week, private),
        )
    return Leaderboard(week.id, private, revealed, comp.metric, comp.direction, list(rows))


def _board_rows(cohort: Cohort, week: Week, private: bool) -> list[LeaderboardRow]:
    return board_rows.board_rows(board_lines(cohort, week), week.competition, private)


def lines_key(week: Week) -> tuple[Any, ...]:
    """What a week's board lines depend on beyond its rows (the close, the direction, how many
    files count, the scorer): part of the key of everything kept that is built from them."""
    comp = week.competition
    return (week.closes_at, comp.direction, comp.final_selections, SCORER_VERSION)


def board_lines(
    cohort: Cohort, week: Week, every_scored: bool = False
) -> list[store_subs.BoardLine]:
    """The week's candidate lines (each member's best public file and counted files), ranked
    by the store: a few rows per member however many they submitted (`every_scored`: and
    every file with a public score)."""
    from cohort.store import revision as store_revision

    comp = week.competition
    with cohort.store.transaction() as tx:
        sha, revealed = store_scores.scored_sha(tx, week.id), store_scores.revealed_at(tx, week.id)
        # Kept per member of the week on counters the database's triggers bump (migrations
        # 0010-0011): a new entry, score, override, selection or extension re-reads that member's
        # rows only; the week's state, the roster, the solution or the config read them all.
        return store_revision.by_members(
            tx,
            f"lines:{every_scored}",
            week.id,
            (sha, revealed, *lines_key(week)),
            lambda members: store_subs.board_lines(
                tx,
                week.id,
                sha,
                SCORER_VERSION,
                week.closes_at,
                revealed,
                comp.direction,
                comp.final_selections,
                every_scored,
                members,
            ),
            lambda line: line.member_id,
        )


def _board_frame(files: pd.DataFrame, comp: Competition, private: bool) -> pd.DataFrame:
    """Each member's ranked line from a week frame: best public score, or best private score of
    the counted ones (the frame form of `leaderboard`, for callers that hold a frame)."""
    if not private:
        return best_per_member(files, "public_score", comp.direction)
    counted = counted_ids(files, comp.direction, comp.final_selections)
    ids = [i for group in counted.values() for i in group]
    return best_per_member(files[files["submission_id"].isin(ids)], "private_score", comp.direction)


def counted_submissions(cohort: Cohort, week_ref: str) -> dict[str, list[int]]:
    """handle -> the submission ids that count: the member's selection, else the best public N."""
    week = cohort.config.week(week_ref)
    frame = week_frame(cohort, week)
    return counted_ids(
        frame[frame["file_sha256"] != ""],
        week.competition.direction,
        week.competition.final_selections,
    )


# --- organizer and member actions ---------------------------------------------------------------


def select_final(cohort: Cohort, member: str, week_ref: str, submission_ids: list[int]) -> None:
    """Choose which of a member's scored submissions count on the private leaderboard."""
    week = cohort.config.week(week_ref)
    limit = week.competition.final_selections
    ids = sorted(set(int(i) for i in submission_ids))
    if not ids or len(ids) > limit:
        raise ValidationError(
            f"Week '{week.id}' allows 1 to {limit} final selections, got {len(ids)}; pass fewer ids."
        )
    if is_revealed(cohort, week.id):
        raise IntakeRefused(
            f"Week '{week.id}' is already revealed; final selections can no longer change."
        )
    with cohort.store.transaction() as tx:
        owner = store_members.by_handle(tx, member)
        for sid in ids:
            sub = store_subs.get(tx, sid)
            if sub.member_id != owner.id or sub.week != week.id or not sub.file_sha256:
                raise ValidationError(
                    f"Submission {sid} is not a file submission of '{member}' for week '{week.id}'; "
                    "pick ids from the member's history."
                )
        store_subs.set_selected(tx, owner.id, week.id, ids)
        audit.record(tx, utcnow(), member, "select_final", week.id, submission_ids=ids)


@dataclass(frozen=True)
class OverrideResult:
    """A submission's effective scores before and after an override (or its removal)."""

    submission_id: int
    old_public: float | None
    old_private: float | None
    new_public: float | None
    new_private: float | None
    cleared: bool = False

    def describe(self) -> str:
        """'public 0.8 -> 0.9, private 0.7 -> 0.7' (the organizer's view: private included)."""
        return ", ".join(
            f"{which} {_num(old)} -> {_num(new)}"
            for which, old, new in (
                ("public", self.old_public, self.new_public),
                ("private", self.old_private, self.new_private),
            )
        )


def _num(value: float | None) -> str:
    return "none" if value is None or value != value else f"{value:.6g}"


def override_score(
    cohort: Cohort,
    submission_id: int,
    public: float | None,
    private: float | None,
    reason: str,
    actor: str,
    clear: bool = False,
) -> OverrideResult:
    """Correct a submission's scores by hand, with a reason, or (`clear`) remove the correction.

    Both are audit-logged with the scores before and after. A score must be one the week's
    metric can give; an override of one side keeps the other side's earlier override."""
    with cohort.store.transaction() as tx:
        sub = store_subs.get(tx, submission_id)  # an unknown id is the first thing to say
    _check_override(cohort, sub.week, submission_id, public, private, reason, clear)
    before = _effective(cohort, sub.week, sub.member_id, submission_id)
    if clear and before[2] is None and before[3] is None:
        raise ValidationError(
            f"Submission {submission_id} has no override to clear; nothing was changed."
        )
    if clear:
        new_public, new_private = None, None
    else:
        new_public = public if public is not None else before[2]
        new_private = private if private is not None else before[3]
    now = utcnow()
    with cohort.store.transaction() as tx:
        store_subs.get(tx, submission_id)
        store_scores.add_override(tx, submission_id, new_public, new_private, reason, actor, now)
        audit.record(
            tx,
            now,
            actor,
            "clear_override" if clear else "override_score",
            str(submission_id),
            public=new_public,
            private=new_private,
            old_public=before[0],
            old_private=before[1],
            reason=reason,
        )
    after = _effective(cohort, sub.week, sub.member_id, submission_id)
    return OverrideResult(submission_id, before[0], before[1], after[0], after[1], clear)


def _check_override(
    cohort: Cohort,
    week_id: str,
    submission_id: int,
    public: float | None,
    private: float | None,
    reason: str,
    clear: bool,
) -> None:
    """One line for the first thing wrong with an override request."""
    import numpy as np

    from cohort.scoring.metrics import RANGES, in_range

    if not reason.strip():
        raise ValidationError(
            f"Override of submission {submission_id} needs a reason; pass --reason."
        )
    if clear and (public is not None or private is not None):
        raise ValidationError(
            f"Override of submission {submission_id}: --clear removes the override; "
            "pass it without --public or --private."
        )
    if clear:
        return
    if public is None and private is None:
        raise ValidationError(
            f"Override of submission {submission_id} sets no score; pass --public, --private or both."
        )
    metric = cohort.config.week(week_id).competition.metric
    for which, value in (("public", public), ("private", private)):
        # nan/inf would sort unpredictably on the board and break JSON exports.
        if value is not None and not np.isfinite(value):
            raise ValidationError(
                f"Override of submission {submission_id}: --{which} {value} is not a finite number; "
                "pass the corrected score as an ordinary number."
            )
        if value is not None and not in_range(metric, value):
            low, high = RANGES[metric]
            span = f"{low:g} to {high:g}" if np.isfinite(high) else f"{low:g} or more"
            raise ValidationError(
                f"Override of submission {submission_id}: --{which} {value:g} is not a possible "
                f"{metric} score ({span}); pass the corrected score on the metric's scale."
            )


def _effective(
    cohort: Cohort, week_id: str, member_id: int, submission_id: int
) -> tuple[float | None, float | None, float | None, float | None]:
    """(public, private, override public, override private) of one submission now."""
    with cohort.store.transaction() as tx:
        sha = store_scores.scored_sha(tx, week_id)
        frame = store_subs.scored_frame(tx, {week_id: sha}, SCORER_VERSION, member_id)
    row = frame[frame["submission_id"] == submission_id].iloc[0]
    import pandas as pd

    def value(column: str) -> float | None:
        return None if pd.isna(row[column]) else float(row[column])

    return (
        value("public_score"),
        value("private_score"),
        value("override_public"),
        value("override_private"),
    )


HISTORY_COLUMNS = [
    "submission_id",
    "week",
    "submitted_at",
    "public_score",
    "private_score",
    "status",
    "error",
    "notebook_url",
    "selected",
    "late",  # after the member's deadline: shown to them, counted nowhere
]


def member_history(cohort: Cohort, handle: str, include_private: bool) -> pd.DataFrame:
    """A member's submissions, newest first; private scores only for revealed weeks
    (or everywhere with `include_private`, for the organizer)."""
    import numpy as np
    import pandas as pd

    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        shas = {w.id: store_scores.scored_sha(tx, w.id) for w in cohort.config.weeks}
        frame = store_subs.scored_frame(tx, shas, SCORER_VERSION, member.id)
    if not include_private:
        revealed = {w: is_revealed(cohort, w) for w in frame["week"].unique()}
        hidden = ~frame["week"].map(revealed).astype(bool)
        frame.loc[hidden, "private_score"] = np.nan
    until = {
        w: deadlines.deadline(cohort, cohort.config.week(w), handle) for w in frame["week"].unique()
    }
    frame["late"] = frame["submitted_at"] >= pd.to_datetime(frame["week"].map(until), utc=True)
    frame = frame.sort_values(["submitted_at", "submission_id"], ascending=False, ignore_index=True)
    return frame[HISTORY_COLUMNS]


def latest_submissions(
    cohort: Cohort,
    week_ref: str,
    limit: int = 8,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """The newest scored files of a week, newest first: who, when and the public score only.

    For the workshop screen's strip of recent entries; private scores never appear here.
    """
    week = cohort.config.week(week_ref)
    frame = week_frame(cohort, week)
    files = frame[(frame["file_sha256"] != "") & frame["public_score"].notna()]
    if since is not None:
        files = files[files["submitted_at"] >= since]
    if until is not None:
        files = files[files["submitted_at"] < until]
    newest = files.sort_values(["submitted_at", "submission_id"], ascending=False).head(limit)
    return newest[["submission_id", "handle", "name", "submitted_at", "public_score"]].reset_index(
        drop=True
    )
