"""Live coding challenges: short competition windows opened during a workshop.

A challenge is a window on one week's competition. Members submit as usual
(Submit page or CLI); the workshop screen ranks only what arrived inside the
window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from cohort.errors import Conflict, NotFound, ValidationError
from cohort.store import audit
from cohort.store import challenges as store_challenges
from cohort.store.challenges import Challenge
from cohort.workspace import Cohort, utcnow

MAX_MINUTES = 240

__all__ = ["Challenge", "board", "close_window", "current", "latest", "open_window", "record_ranks"]


def open_window(
    cohort: Cohort, week_ref: str, minutes: int, actor: str, now: datetime | None = None
) -> Challenge:
    """Open a challenge window on a week for `minutes`, starting now; audited."""
    week = cohort.config.week(week_ref)
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValidationError(
            f"Challenge length {minutes} minutes is out of range; use 1 to {MAX_MINUTES} minutes."
        )
    now = now or utcnow()
    with cohort.store.transaction() as tx:
        running = store_challenges.open_at(tx, now)
        if running is not None:
            raise Conflict(
                f"Challenge {running.id} on week '{running.week}' is still open; close it first."
            )
        challenge = store_challenges.add(tx, week.id, now, now + timedelta(minutes=minutes), actor)
        audit.record(
            tx, now, actor, "challenge_open", week.id, challenge_id=challenge.id, minutes=minutes
        )
    return challenge


def close_window(cohort: Cohort, actor: str, now: datetime | None = None) -> Challenge:
    """Close the open challenge window now; audited."""
    now = now or utcnow()
    with cohort.store.transaction() as tx:
        running = store_challenges.open_at(tx, now)
        if running is None:
            raise NotFound("No challenge is open; open one from the Organizer page first.")
        closed = store_challenges.close(tx, running.id, now)
        audit.record(tx, now, actor, "challenge_close", closed.week, challenge_id=closed.id)
    return closed


def current(cohort: Cohort, now: datetime | None = None) -> Challenge | None:
    """The challenge window open now, if any."""
    with cohort.store.transaction() as tx:
        return store_challenges.open_at(tx, now or utcnow())


def latest(cohort: Cohort) -> Challenge | None:
    """The most recent challenge window, open or closed."""
    with cohort.store.transaction() as tx:
        return store_challenges.latest(tx)


BOARD_COLUMNS = ["rank", "handle", "name", "score", "entries", "last_submitted_at"]


def board(cohort: Cohort, challenge: Challenge) -> pd.DataFrame:
    """The challenge's public board: each member's best file submitted inside the window.

    Ranking is the scorer's (`boards.best_per_member`); private scores never appear here.
    """
    from cohort.scoring import boards

    week = cohort.config.week(challenge.week)
    frame = boards.week_frame(cohort, week)
    inside = frame[
        (frame["status"] != "notebook")
        & (frame["submitted_at"] >= challenge.opens_at)
        & (frame["submitted_at"] < challenge.closes_at)
    ]
    best = boards.best_per_member(inside, "public_score", week.competition.direction)
    stats = inside.groupby("member_id").agg(
        entries=("submission_id", "size"), last_submitted_at=("submitted_at", "max")
    )
    best = best.join(stats, on="member_id")
    return best.rename(columns={"public_score": "score"})[BOARD_COLUMNS].reset_index(drop=True)


def record_ranks(cohort: Cohort, challenge_id: int, actor: str, now: datetime | None = None) -> int:
    """Record a closed challenge's board as `challenge_rank` contributions (value = rank)."""
    from cohort.season import contributions

    with cohort.store.transaction() as tx:
        challenge = store_challenges.get(tx, challenge_id)
    if challenge.is_open(now or utcnow()):
        raise Conflict(f"Challenge {challenge.id} is still open; close it before recording ranks.")
    ranked = board(cohort, challenge)
    recorded = contributions.events(cohort, derived=False)
    # Several challenges a week each count; the same challenge is credited once.
    already = recorded[
        (recorded["kind"] == "challenge_rank")
        & (recorded["week"] == challenge.week)
        & pd.Series(
            [
                isinstance(e, dict) and e.get("challenge") == challenge.id
                for e in recorded["evidence"]
            ],
            index=recorded.index,
            dtype=bool,
        )
    ]
    if not already.empty:
        raise Conflict(
            f"Challenge {challenge.id} is already credited ({len(already)} ranks recorded); "
            "nothing was recorded again."
        )
    for row in ranked.to_dict("records"):
        contributions.add(
            cohort,
            str(row["handle"]),
            "challenge_rank",
            value=float(row["rank"]),
            week_ref=challenge.week,
            note=f"live challenge {challenge.id}",
            actor=actor,
            evidence={"challenge": challenge.id, "score": float(row["score"])},
        )
    return len(ranked)
