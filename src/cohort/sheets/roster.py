"""The roster: importing members.csv, listing members, issuing personal tokens."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cohort.errors import ConfigError
from cohort.sheets.reader import read_text
from cohort.store import Store
from cohort.store import members as store_members
from cohort.store.members import Member
from cohort.workspace import utcnow

ROSTER_COLUMNS = ("handle", "name", "email", "kaggle_username")
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RosterRow:
    line: int
    handle: str
    name: str
    email: str
    kaggle_username: str


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    # Active members the file no longer lists: kept, and named so the organizer can decide.
    missing: tuple[str, ...] = ()


def read_roster(path: Path) -> list[RosterRow]:
    """Parse and check a roster CSV; every bad row is reported with its line number."""
    text = read_text(path, "pass the path of your members.csv", "save it as CSV UTF-8")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("handle", "name") if c not in header]
    if missing:
        raise ConfigError(
            f"{path}: required column '{missing[0]}' could not be found; the header must be "
            + ",".join(ROSTER_COLUMNS)
            + "."
        )
    reader.fieldnames = header
    rows: list[RosterRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        problem = _row_problem(row, seen)
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        for _, _, key in _identity_keys(row):
            seen[key] = line
        rows.append(
            RosterRow(
                line,
                row["handle"],
                row["name"],
                row.get("email", ""),
                row.get("kaggle_username", ""),
            )
        )
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConfigError(
            f"{path}: "
            + "; ".join(problems[:3])
            + more
            + ". Fix these rows and import again; nothing was imported."
        )
    return rows


def _row_problem(row: dict[str, str], seen: dict[str, int]) -> str:
    handle = row.get("handle", "")
    if not handle:
        return "handle is empty"
    if not HANDLE_RE.match(handle):
        return f"handle {handle!r} may only use letters, digits, '.', '_' and '-'"
    if not row.get("name"):
        return f"member {handle!r} has no name"
    email = row.get("email", "")
    if email and not EMAIL_RE.match(email):
        return f"email {email!r} of {handle!r} is not an email address"
    # Two rows for one person would make every later attendance or form row ambiguous.
    for what, value, key in _identity_keys(row):
        if key in seen:
            return f"{what} {value!r} repeats line {seen[key]}"
    return ""


def _identity_keys(row: dict[str, str]) -> list[tuple[str, str, str]]:
    """What must be unique per member, case-insensitively: handle, email, Kaggle username."""
    pairs = (
        ("handle", row.get("handle", "")),
        ("email", row.get("email", "")),
        ("Kaggle username", row.get("kaggle_username", "")),
    )
    return [(what, value, f"{what}:{value.lower()}") for what, value in pairs if value]


def import_roster(store: Store, path: Path, actor: str = "organizer") -> ImportReport:
    """Add or update every member of the roster in one transaction (audited); re-importing
    changes no member."""
    from cohort.store import audit

    rows = read_roster(path)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    with store.transaction() as tx:
        for r in rows:
            counts[store_members.upsert(tx, r.handle, r.name, r.email, r.kaggle_username, now)] += 1
        listed = {r.handle for r in rows}
        missing = tuple(
            m.handle for m in store_members.all_members(tx) if m.active and m.handle not in listed
        )
        if counts["added"] or counts["updated"]:  # an unchanged re-import changes nothing shown
            audit.record(tx, now, actor, "roster_import", Path(path).name, **counts)
    return ImportReport(**counts, missing=missing)


def list_members(store: Store, include_inactive: bool = True) -> list[Member]:
    """Every member, by handle (only the active ones unless `include_inactive`)."""
    with store.transaction() as tx:
        people = store_members.all_members(tx)
    return people if include_inactive else [m for m in people if m.active]


def edit_member(
    store: Store,
    handle: str,
    actor: str,
    roster: Path | None = None,
    **fields: str | None,
) -> dict[str, tuple[str, str]]:
    """Change a member's name, email or Kaggle username (audited); `roster` gets the same edit.

    Writing members.csv too keeps a later re-import from undoing the change."""
    given = {k: v.strip() for k, v in fields.items() if v is not None}
    if not given:
        raise ConfigError("Nothing to change; pass --name, --email or --kaggle.")
    if "name" in given and not given["name"]:
        raise ConfigError(f"Member '{handle}' needs a name; pass a non-empty --name.")
    email = given.get("email", "")
    if email and not EMAIL_RE.match(email):
        raise ConfigError(
            f"Email {email!r} is not an email address; pass one like ann@example.org."
        )
    from cohort.store import audit

    with store.transaction() as tx:
        changed = store_members.update(tx, handle, **given)
        if changed:
            detail = {k: new for k, (_old, new) in changed.items() if k != "email"}
            audit.record(
                tx, utcnow(), actor, "member_edit", handle, changed=sorted(changed), **detail
            )
    if changed and roster is not None and roster.is_file():
        _rewrite_roster_row(roster, handle, {k: new for k, (_old, new) in changed.items()})
    return changed


def _rewrite_roster_row(path: Path, handle: str, values: dict[str, str]) -> None:
    """Apply an edit to the member's row of members.csv (other rows byte-for-byte kept)."""
    text = read_text(path, "pass the path of your members.csv", "save it as CSV UTF-8")
    lines = text.splitlines(keepends=True)
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))] if lines else []
    for index, line in enumerate(lines[1:], start=1):
        cells = next(csv.reader([line]), [])
        at = header.index("handle") if "handle" in header else 0
        if len(cells) > at and cells[at].strip() == handle:
            row = dict(zip(header, cells, strict=False))
            row.update(values)
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow([row.get(h, "") for h in header])
            lines[index] = out.getvalue()
            break
    else:
        return  # not in the file: the store holds the edit
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)


def set_active(store: Store, handle: str, active: bool, actor: str) -> bool:
    """Deactivate or reactivate a member (audited); False when nothing changed."""
    from cohort.store import audit

    with store.transaction() as tx:
        changed = store_members.set_active(tx, handle, active)
        if changed:
            action = "member_reactivate" if active else "member_deactivate"
            audit.record(tx, utcnow(), actor, action, handle)
    return changed


def hash_token(token: str) -> str:
    """Tokens are stored only as their sha256."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def issue_tokens(
    store: Store, handles: list[str] | None = None, actor: str = "organizer"
) -> dict[str, str]:
    """New personal tokens for the given members (all when None; audited, by handle only,
    never the tokens); returns handle -> token."""
    from cohort.store import audit

    with store.transaction() as tx:
        members = [m for m in store_members.all_members(tx) if m.active]
        chosen = members if not handles else [store_members.by_handle(tx, h) for h in handles]
        asleep = [m.handle for m in chosen if not m.active]
        if asleep:
            raise ConfigError(
                f"Member '{asleep[0]}' is deactivated; `cohort members reactivate {asleep[0]}` first."
            )
        tokens = {m.handle: secrets.token_urlsafe(12) for m in chosen}
        for handle, token in tokens.items():
            store_members.set_token_hash(tx, handle, hash_token(token))
        target = "all active members" if not handles else ", ".join(sorted(tokens))
        audit.record(tx, utcnow(), actor, "tokens_issue", target, handles=sorted(tokens))
    return tokens


def member_for_token(store: Store, token: str) -> Member | None:
    """The member a token belongs to, or None for a wrong token."""
    if not token.strip():
        return None
    with store.transaction() as tx:
        return store_members.by_token_hash(tx, hash_token(token))


def write_tokens_csv(
    store: Store, path: Path, handles: list[str] | None = None, actor: str = "organizer"
) -> int:
    """Issue tokens and write handle,name,email,token to a new file only the owner can read."""
    if path.exists():
        raise ConfigError(f"{path} already exists; choose a new file name for the tokens.")
    if not path.parent.is_dir():
        raise ConfigError(f"Folder {path.parent} does not exist; create it or choose another path.")
    people = {m.handle: m for m in list_members(store)}
    try:
        # Created 0600 before any token exists, so a failed write leaves no live token behind.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create {path} ({exc.strerror}); choose a writable path."
        ) from None
    try:
        tokens = issue_tokens(store, handles, actor)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["handle", "name", "email", "token"])
            for handle, token in tokens.items():
                m = people[handle]
                writer.writerow([handle, _cell(m.name), m.email, token])
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return len(tokens)


def _cell(text: str) -> str:
    """A spreadsheet cell that cannot run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
