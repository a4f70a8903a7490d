"""The roster: importing members.csv, listing members, issuing personal tokens."""

from __future__ import annotations

import csv
import hashlib
import io
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
        seen[row["handle"].lower()] = line
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
    if handle.lower() in seen:
        return f"handle {handle!r} repeats line {seen[handle.lower()]}"
    if not row.get("name"):
        return f"member {handle!r} has no name"
    email = row.get("email", "")
    if email and not EMAIL_RE.match(email):
        return f"email {email!r} of {handle!r} is not an email address"
    return ""


def import_roster(store: Store, path: Path) -> ImportReport:
    """Add or update every member of the roster in one transaction; re-importing is a no-op."""
    rows = read_roster(path)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    with store.transaction() as tx:
        for r in rows:
            counts[store_members.upsert(tx, r.handle, r.name, r.email, r.kaggle_username, now)] += 1
    return ImportReport(**counts)


def list_members(store: Store) -> list[Member]:
    """Every member, by handle."""
    with store.transaction() as tx:
        return store_members.all_members(tx)


def hash_token(token: str) -> str:
    """Tokens are stored only as their sha256."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def issue_tokens(store: Store, handles: list[str] | None = None) -> dict[str, str]:
    """New personal tokens for the given members (all when None); returns handle -> token."""
    with store.transaction() as tx:
        members = store_members.all_members(tx)
        chosen = members if not handles else [store_members.by_handle(tx, h) for h in handles]
        tokens = {m.handle: secrets.token_urlsafe(12) for m in chosen}
        for handle, token in tokens.items():
            store_members.set_token_hash(tx, handle, hash_token(token))
    return tokens


def member_for_token(store: Store, token: str) -> Member | None:
    """The member a token belongs to, or None for a wrong token."""
    if not token.strip():
        return None
    with store.transaction() as tx:
        return store_members.by_token_hash(tx, hash_token(token))
