"""Contribution events: recording, correcting, importing from CSV, and deriving on-time kernels.

An event says a member did something worth points (the kinds are
`config.CONTRIBUTION_KINDS`). Nothing is edited or deleted: a correction is a
new event that supersedes the old one, and a withdrawal is a correction with
value 0. Most kinds count once per member and week; `helped` may repeat.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cohort.config import CONTRIBUTION_KINDS, Week
from cohort.errors import CohortError, ValidationError
from cohort.scoring import deadlines
from cohort.sheets.reader import MemberMatcher, parse_timestamp, read_text
from cohort.store import Tx, audit
from cohort.store import contributions as store
from cohort.store import members as store_members
from cohort.workspace import Cohort, utcnow

# Kinds a member earns at most once per week; a second one must supersede the first.
ONCE_PER_WEEK = ("attended", "presented", "on_time_kernel", "beyond_minimum", "challenge_rank")

# CSV headers (lower-cased) that identify a member, as attendance sheets and Google Forms name them.
IDENTITY_HEADERS = {
    "handle": ("handle", "username", "member"),
    "email": ("email", "email address", "e-mail", "mail"),
    "name": ("name", "full name", "your name", "naam"),
    "kaggle_username": ("kaggle", "kaggle_username", "kaggle username"),
}
VALUE_HEADERS = ("value", "points", "rank", "count")

# No real event is worth more; a bigger value is a typo (or 1e308, which would make totals inf).
MAX_VALUE = 1000.0


@dataclass(frozen=True)
class ImportReport:
    """What an import did; `unmatched` lines say why each skipped row was skipped."""

    added: int
    already_recorded: int
    unmatched: list[str] = field(default_factory=list)


def check_kind(kind: str) -> str:
    """The kind, or a ValidationError listing the known kinds."""
    if kind not in CONTRIBUTION_KINDS:
        raise ValidationError(
            f"Unknown contribution kind '{kind}'; use one of: {', '.join(CONTRIBUTION_KINDS)}."
        )
    return kind


def _check_value(kind: str, value: float) -> float:
    problem = (
        "is not a finite number"
        if not math.isfinite(value)
        else "is negative"
        if value < 0
        else "is too large"
        if value > MAX_VALUE
        else ""
    )
    if problem:
        raise ValidationError(
            f"Contribution value {value} for '{kind}' {problem}; use a number from 0 to {MAX_VALUE:g}."
        )
    if kind == "challenge_rank" and (value < 1 or value != int(value)):
        raise ValidationError(
            f"A challenge_rank value is the member's rank (1 = winner), not {value}; pass --value 1, 2, 3, ..."
        )
    return float(value)


def _challenge_of(evidence: Any) -> Any:
    """The live challenge an event ranks ('' for a rank recorded by hand)."""
    return evidence.get("challenge", "") if isinstance(evidence, dict) else ""


def _conflict(
    tx: Tx,
    handle: str,
    kind: str,
    week: str,
    supersedes: int | None,
    evidence: dict[str, Any] | None = None,
) -> None:
    """Refuse a second once-per-week event unless it supersedes the first.

    A challenge rank is once per challenge: a week may hold several live challenges.
    """
    if kind not in ONCE_PER_WEEK:
        return
    now = store.current(tx, handle)
    same = now[(now["kind"] == kind) & (now["week"] == week) & (now["id"] != supersedes)]
    if kind == "challenge_rank":
        mine = _challenge_of(evidence)
        same = same[
            pd.Series(
                [_challenge_of(e) == mine for e in same["evidence"]], index=same.index, dtype=bool
            )
        ]
    if len(same):
        old = int(same["id"].iloc[0])
        raise ValidationError(
            f"Member '{handle}' already has a '{kind}' event for week {week} (#{old}); "
            f"to correct it, add the new one with --supersedes {old}."
        )


def _check_supersedes(tx: Tx, event_id: int, handle: str, kind: str, week: str) -> None:
    """A correction replaces one event of the same member, kind and week, not anyone's event."""
    old = store.get(tx, event_id)
    if old.superseded_by is not None:
        raise ValidationError(
            f"Contribution event #{event_id} was already superseded by #{old.superseded_by}; "
            f"supersede #{old.superseded_by} instead."
        )
    pairs = [("member", old.handle, handle), ("kind", old.kind, kind), ("week", old.week, week)]
    differ = [(name, was, now) for name, was, now in pairs if was != now]
    if differ:
        was = _and([_field(name, value) for name, value, _ in differ])
        now = _and([_field(name, value) for name, _, value in differ])
        raise ValidationError(
            f"Contribution event #{event_id} has {was}, not {now}; a correction must have the same "
            "member, kind and week as the event it supersedes (see `cohort contrib list`)."
        )


def _field(name: str, value: str) -> str:
    return "no week" if name == "week" and not value else f"{name} '{value}'"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def add(
    cohort: Cohort,
    handle: str,
    kind: str,
    value: float = 1.0,
    week_ref: str | None = None,
    note: str = "",
    actor: str = "organizer",
    supersedes: int | None = None,
    evidence: dict[str, Any] | None = None,
    *,
    source: str = "manual",
    at: datetime | None = None,
) -> int:
    """Record one event (a correction when `supersedes` is given); returns its id."""
    check_kind(kind)
    value = _check_value(kind, value)
    week = cohort.config.week(week_ref).id if week_ref else ""
    if kind in ONCE_PER_WEEK and not week:
        raise ValidationError(f"A '{kind}' event belongs to a week; pass --week W.")
    at = at or utcnow()
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        if supersedes is not None:
            _check_supersedes(tx, supersedes, member.handle, kind, week)
        _conflict(tx, handle, kind, week, supersedes, evidence)
        event_id = store.add(
            tx,
            store.NewEvent(
                member.id,
                week,
                kind,
                value,
                note,
                dict(evidence or {}),
                source,
                actor,
                at,
                supersedes,
            ),
        )
        audit.record(
            tx,
            at,
            actor,
            "contribution.add",
            handle,
            event=event_id,
            kind=kind,
            week=week,
            value=value,
            supersedes=supersedes,
        )
    return event_id


def events(
    cohort: Cohort, handle: str | None = None, derived: bool = True, evidence: bool = True
) -> pd.DataFrame:
    """Current (not superseded) events, plus on-time kernels derived from submissions.

    A recorded `on_time_kernel` event for a member and week replaces the derived one,
    so an organizer can correct it (value 0 withdraws it). `evidence=False` leaves recorded
    events' evidence empty (the standings never read it, and decoding it is most of the read).
    """
    from cohort.store import revision as store_revision

    with cohort.store.transaction() as tx:
        # Kept on the events' own counter (migration 0011), so a view after a new entry or any
        # other write does not read every event again.
        recorded = store_revision.by_weeks(
            tx,
            f"events:{handle}:{evidence}",
            [store_revision.CONTRIBUTIONS],
            None,
            lambda: store.current(tx, handle, evidence=evidence),
            # One member's events: any handle typed at `contrib list --member` would leave a
            # stored row; the standings read everyone's, which is what a fresh process wants.
            persist=handle is None,
        )
        members = store_members.all_members(tx)
        names = {m.handle: m.name for m in members}
        extra = (
            _derived_on_time(tx, cohort.config.season_weeks, recorded, names, members)
            if derived
            else []
        )
    if handle is not None:
        extra = [e for e in extra if e["handle"] == handle]
    if not extra:
        return recorded.copy()  # the kept frame is never handed out to be changed
    frame = pd.concat(
        [recorded, pd.DataFrame(extra, columns=store.EVENT_COLUMNS)], ignore_index=True
    )
    return frame.astype({"value": float})


def _derived_on_time(
    tx: Tx,
    weeks: tuple[Week, ...],
    recorded: pd.DataFrame,
    names: dict[str, str],
    members: list[Any],
) -> list[dict[str, Any]]:
    manual = recorded[recorded["kind"] == "on_time_kernel"]
    overridden = set(zip(manual["handle"], manual["week"], strict=True))
    rows = []
    for week in weeks:
        found = deadlines.on_time(tx, week, week.closes_at, members)  # extensions count
        for handle, at in sorted(found.items()):
            if (handle, week.id) in overridden:
                continue
            rows.append(
                {
                    "id": None,
                    "handle": handle,
                    "name": names.get(handle, ""),
                    "week": week.id,
                    "kind": "on_time_kernel",
                    "value": 1.0,
                    "note": f"notebook link submitted {at:%Y-%m-%d %H:%M} UTC, before the week closed",
                    "evidence": {"submitted_at": at.isoformat()},
                    "source": "derived",
                    "recorded_by": "cohort",
                    "recorded_at": at,
                    "supersedes_id": None,
                    "import_key": None,
                }
            )
    return rows


# --- CSV import -----------------------------------------------------------------------------


def _who(values: list[str], found: set[str]) -> str:
    """Why a row names no single member."""
    shown = ", ".join(repr(v) for v in values if v.strip()) or "an empty row"
    if not found:
        return f"no member matches {shown}"
    return f"{shown} matches several members ({', '.join(sorted(found))})"


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    text = read_text(path, "pass the path of the CSV export", "export it again as CSV UTF-8")
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().casefold() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = [
        (line, {k: (v or "").strip() for k, v in raw.items() if k})
        for line, raw in enumerate(reader, start=2)
    ]
    return header, rows


def _columns(path: Path, header: list[str], has_week: bool) -> dict[str, list[str]]:
    ids = [h for names in IDENTITY_HEADERS.values() for h in header if h in names]
    if not ids:
        raise ValidationError(
            f"{path}: no column names a member; add one of the columns handle, email, name or kaggle_username."
        )
    cols = {
        "ids": ids,
        "value": [h for h in header if h in VALUE_HEADERS][:1],
        "timestamp": [h for h in header if h == "timestamp"],
        "week": [h for h in header if h == "week"],
    }
    if not (has_week or cols["timestamp"] or cols["week"]):
        raise ValidationError(
            f"{path}: no Timestamp or week column; pass --week W to say which week it records."
        )
    return cols


def _row_week(
    cohort: Cohort, row: dict[str, str], cols: dict[str, list[str]], fixed: Week | None
) -> tuple[Week, datetime | None]:
    """The row's week: --week, else its week column, else the week its Timestamp falls in."""
    stamp = None
    if cols["timestamp"] and row.get("timestamp"):
        try:
            stamp = parse_timestamp(row["timestamp"], cohort.config.tz)
        except ValueError:
            raise ValueError(f"Timestamp {row['timestamp']!r} is not a date and time") from None
    if fixed:
        return fixed, stamp
    if cols["week"] and row.get("week"):
        return cohort.config.week(row["week"]), stamp
    for week in cohort.config.season_weeks:
        if stamp and week.opens_at <= stamp < week.closes_at:
            return week, stamp
    raise ValueError(
        f"Timestamp {row.get('timestamp', '')!r} falls in no season week; pass --week W"
    )


def _row_value(kind: str, row: dict[str, str], cols: dict[str, list[str]]) -> float:
    text = row.get(cols["value"][0], "") if cols["value"] else ""
    try:
        return _check_value(kind, float(text) if text else 1.0)
    except ValueError:
        raise ValueError(f"value {text!r} is not a number") from None
    except ValidationError as exc:
        raise ValueError(str(exc).rstrip(".")) from None


def _import_key(kind: str, week: str, handle: str, row: dict[str, str]) -> str:
    """Once-per-week kinds dedupe on member+week; `helped` rows on their whole content."""
    parts = [kind, week, handle.casefold()]
    if kind not in ONCE_PER_WEEK:
        parts.append(repr(sorted(row.items())))
    return "csv:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def import_csv(
    cohort: Cohort, path: Path, kind: str, week_ref: str | None = None, actor: str = "organizer"
) -> ImportReport:
    """Import an attendance sheet or Google Forms export; re-importing the same file adds nothing."""
    check_kind(kind)
    fixed = cohort.config.week(week_ref) if week_ref else None
    header, rows = _read_csv(path)
    cols = _columns(path, header, fixed is not None)
    added, seen, unmatched = 0, 0, []
    now = utcnow()
    with cohort.store.transaction() as tx:
        matcher = MemberMatcher(store_members.all_members(tx))
        for line, row in rows:
            values = [row.get(h, "") for h in cols["ids"]]
            handle, found = matcher.match(values)
            try:
                if handle is None:
                    raise ValueError(_who(values, found))
                week, stamp = _row_week(cohort, row, cols, fixed)
                value = _row_value(kind, row, cols)
            except (ValueError, CohortError) as exc:
                unmatched.append(f"line {line}: {str(exc).rstrip('.')}")
                continue
            key = _import_key(kind, week.id, handle, row)
            if store.import_key_exists(tx, key) or _has_current(tx, handle, kind, week.id):
                seen += 1
                continue
            evidence = {
                "file": path.name,
                "line": line,
                "timestamp": stamp.isoformat() if stamp else "",
            }
            member = store_members.by_handle(tx, handle)
            store.add(
                tx,
                store.NewEvent(
                    member.id,
                    week.id,
                    kind,
                    value,
                    f"imported from {path.name}",
                    evidence,
                    "import",
                    actor,
                    now,
                    None,
                    key,
                ),
            )
            added += 1
        audit.record(
            tx,
            now,
            actor,
            "contribution.import",
            path.name,
            kind=kind,
            added=added,
            already_recorded=seen,
            unmatched=len(unmatched),
        )
    return ImportReport(added, seen, unmatched)


def _has_current(tx: Tx, handle: str, kind: str, week: str) -> bool:
    if kind not in ONCE_PER_WEEK:
        return False
    now = store.current(tx, handle)
    return bool(((now["kind"] == kind) & (now["week"] == week)).any())
