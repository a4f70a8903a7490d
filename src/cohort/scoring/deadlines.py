"""Deadlines: a week's close, one member's extension, and what moving a close would change.

A member's deadline for a week is the week's close, or their extension when it is later.
Intake accepts a submission before it; boards count only submissions made before it; the
on-time kernel credit is earned before it. `cohort week set` moves a week's close (in its
week.toml, so every reader agrees), after `preview_close` has shown the changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cohort.config import WEEK_FILE, Week
from cohort.errors import ConfigError, Conflict, ValidationError
from cohort.store import audit
from cohort.store import contributions as store_contrib
from cohort.store import extensions as store_ext
from cohort.store import members as store_members
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    from cohort.store import Tx


def parse_time(cohort: Cohort, text: str) -> datetime:
    """'2027-01-20 18:00' (the cohort's zone unless an offset is given) or '2027-01-20' (midnight)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a date or time; write it like 2027-01-20 or '2027-01-20 18:00' "
            f"(in {cohort.config.timezone} unless you add an offset)."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=cohort.config.tz)
    return value


def extensions(tx: Tx, week: Week) -> dict[str, datetime]:
    """Handle -> deadline, for the members whose extension is later than the week's close."""
    return {h: u for h, u in store_ext.for_week(tx, week.id).items() if u > week.closes_at}


def revealed_early(tx: Tx, week: Week) -> datetime | None:
    """When the organizer revealed the week before its close (which closed it then), if so."""
    at = _revealed_at(tx, week.id)
    return at if at is not None and at < week.closes_at else None


def deadline(cohort: Cohort, week: Week, handle: str) -> datetime:
    """When `handle`'s submissions to `week` stop counting: the close, or the member's extension,
    and never after a reveal (once private scores are visible, nothing more can count)."""
    with cohort.store.transaction() as tx:
        until = extensions(tx, week).get(handle, week.closes_at)
        revealed = _revealed_at(tx, week.id)
    return until if revealed is None else min(until, revealed)


def on_time(
    tx: Tx, week: Week, closes_at: datetime, members: list[store_members.Member] | None = None
) -> dict[str, datetime]:
    """Handle -> first submission of a good notebook link before their deadline, were the week
    to close then (and never after a reveal, which closes it).

    Only a submitted link counts, at the time it was submitted: a link the link check warned
    about (a Kaggle profile, a competition page, localhost) earns nothing, nor does the time
    an organizer analysed or stored a notebook file."""
    from cohort.store import revision as store_revision

    # Kept per member of the week: a member's answer moves only with their own submissions and
    # extension, and everyone's with the week's state (a reveal), the roster or the close.
    found = store_revision.by_members(
        tx,
        "on_time",
        week.id,
        closes_at,
        partial(_on_time, tx, week, closes_at, members),
        lambda row: row[0],
    )
    return {handle: at for _, handle, at in found}


def _on_time(
    tx: Tx,
    week: Week,
    closes_at: datetime,
    members: list[store_members.Member] | None,
    only: list[int] | None,
) -> list[tuple[int, str, datetime]]:
    """(member id, handle, first good link) for the members who have one (`only`: of those)."""
    ext = {h: u for h, u in store_ext.for_week(tx, week.id).items() if u > closes_at}
    revealed = _revealed_at(tx, week.id)
    latest = max([closes_at, *ext.values()])
    found: dict[str, tuple[int, datetime]] = {}
    # `members`: the roster the caller already read in this transaction (one read per view).
    roster = store_members.all_members(tx) if members is None else members
    usernames = {m.handle: m.kaggle_username for m in roster}
    for mid, handle, at, url in store_contrib.member_links(tx, week.id, latest, only):
        deadline = ext.get(handle, closes_at)
        if revealed is not None:
            deadline = min(deadline, revealed)
        if handle not in found and at < deadline and _good_link(url, usernames.get(handle, "")):
            found[handle] = (mid, at)
    return [(mid, handle, at) for handle, (mid, at) in found.items()]


def _good_link(url: str, kaggle_username: str) -> bool:
    """A notebook link that passed its check without a warning; a Kaggle code link only when
    its owner is the member's kaggle_username (not another member's kernel, nor the starter)."""
    from cohort.errors import ValidationError
    from cohort.scoring.links import check_notebook_url, owner_warning

    try:
        link = check_notebook_url(url)
    except ValidationError:
        return False
    return not link.warnings and not owner_warning(link, kaggle_username)


def extend(
    cohort: Cohort, week_ref: str, handle: str, until: datetime, actor: str, reason: str = ""
) -> datetime | None:
    """Give one member until `until` for a week (audited); returns the extension it replaced."""
    week = cohort.config.week(week_ref)
    if until <= week.closes_at:
        raise ValidationError(
            f"{until:%Y-%m-%d %H:%M %Z} is not after week '{week.id}' closes "
            f"({week.closes_at.astimezone(cohort.config.tz):%Y-%m-%d %H:%M %Z}); "
            "an extension must give more time."
        )
    now = utcnow()
    with cohort.store.transaction() as tx:
        store_members.by_handle(tx, handle)  # an unknown member is named first
        # boards.is_revealed, inline: boards imports this module (no import cycle).
        revealed = week.is_closed(now) or _revealed_by_hand(tx, week.id)
    if revealed:
        raise Conflict(
            f"Week '{week.id}' is already revealed, so its private scores are public and an "
            f"extension would show {handle} the private score of each new file; accept a late "
            "submission instead (`cohort submit` marks it late)."
        )
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        old = store_ext.put(tx, member.id, week.id, until, reason, actor, now)
        audit.record(
            tx, now, actor, "extend", f"{week.id}/{handle}", until=until.isoformat(), reason=reason
        )
    return old


@dataclass(frozen=True)
class CloseChange:
    """What moving a week's close would change, for the organizer to confirm."""

    week: str
    old: datetime
    new: datetime
    gains_credit: tuple[str, ...] = ()
    loses_credit: tuple[str, ...] = ()
    stop_counting: dict[str, int] = field(default_factory=dict)  # handle -> entries
    start_counting: dict[str, int] = field(default_factory=dict)
    reveal: str = ""  # "reveals the private board" / "hides the private board again" / ""

    @property
    def changes_anything(self) -> bool:
        """True when some credit, some board or the reveal would change."""
        return bool(
            self.gains_credit
            or self.loses_credit
            or self.stop_counting
            or self.start_counting
            or self.reveal
        )


def preview_close(cohort: Cohort, week_ref: str, new: datetime) -> CloseChange:
    """Whose on-time credit and which boards change if the week closed at `new` instead."""
    week = cohort.config.week(week_ref)
    if new <= week.opens_at:
        raise ValidationError(
            f"Week '{week.id}' opens {week.opens_at.astimezone(cohort.config.tz):%Y-%m-%d %H:%M %Z}; "
            "the close must come after that."
        )
    now = utcnow()
    with cohort.store.transaction() as tx:
        before, after = set(on_time(tx, week, week.closes_at)), set(on_time(tx, week, new))
        ext = store_ext.for_week(tx, week.id)
        times = store_ext.submission_times(tx, week.id)
        revealed = _revealed_by_hand(tx, week.id)
    stop: dict[str, int] = {}
    start: dict[str, int] = {}
    for handle, at in times:
        old_ok = at < max(week.closes_at, ext.get(handle, week.closes_at))
        new_ok = at < max(new, ext.get(handle, new))
        if old_ok and not new_ok:
            stop[handle] = stop.get(handle, 0) + 1
        elif new_ok and not old_ok:
            start[handle] = start.get(handle, 0) + 1
    reveal = ""
    if not revealed and week.closes_at > now >= new:
        reveal = "reveals the private board now (the week will have closed)"
    elif not revealed and week.closes_at <= now < new:
        reveal = "hides the private board again until the new close"
    return CloseChange(
        week.id,
        week.closes_at,
        new,
        tuple(sorted(after - before)),
        tuple(sorted(before - after)),
        stop,
        start,
        reveal,
    )


def _revealed_by_hand(tx: Tx, week_id: str) -> bool:
    return _revealed_at(tx, week_id) is not None


def _revealed_at(tx: Tx, week_id: str) -> datetime | None:
    from cohort.store import scores as store_scores

    return store_scores.revealed_at(tx, week_id)


_CLOSES = re.compile(r"^closes\s*=.*$", re.M)


def set_close(cohort: Cohort, week_ref: str, new: datetime, actor: str) -> CloseChange:
    """Move the week's close in its week.toml (audited); returns what changed."""
    from cohort import config as config_mod

    change = preview_close(cohort, week_ref, new)
    week = cohort.config.week(week_ref)
    path = cohort.root / "weeks" / week.id / WEEK_FILE
    old_text = path.read_text(encoding="utf-8")
    _replace(path, _with_close(old_text, new.astimezone(cohort.config.tz)))
    try:
        config_mod.load(cohort.root)  # the new file must load before anything relies on it
    except ConfigError:
        _replace(path, old_text)
        raise
    with cohort.store.transaction() as tx:
        audit.record(
            tx,
            utcnow(),
            actor,
            "week_set",
            week.id,
            closes=new.isoformat(),
            was=week.closes_at.isoformat(),
        )
    return change


_CLOSES = re.compile(r"^closes\s*=.*$", re.M)


def _with_close(text: str, local: datetime) -> str:
    """week.toml's text with its top-level `closes` set to `local` (a TOML local date-time)."""
    naive = local.replace(tzinfo=None)
    line = f"closes = {naive.isoformat(timespec='seconds')}"  # TOML needs the seconds
    if naive.time() == time(0):
        line = f"closes = {naive.date().isoformat()}"
    table = re.search(r"^\[", text, re.M)
    head, rest = (text[: table.start()], text[table.start() :]) if table else (text, "")
    if _CLOSES.search(head):
        head = _CLOSES.sub(line, head, count=1)
    else:
        head = head.rstrip("\n") + f"\n{line}\n\n"
    return head + rest


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
