"""Importing a Google Forms responses export: one notebook-link submission per response.

The export has `Timestamp`, `Email Address`, then one column per question. The link
column is the first whose header mentions a notebook or link (else the first holding
URLs); respondents are matched to members by email, then by a handle or name answer.
The response time is the submission time. Each row's import key is a hash of its
content, so importing the same export again adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cohort.errors import CohortError, ConfigError
from cohort.members import list_members
from cohort.store import submissions as store_subs
from cohort.store.members import Member
from cohort.workspace import Cohort

GMT_RE = re.compile(r"\s*(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$")
FORMATS = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S",
           "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")


@dataclass
class FormReport:
    """What an import did; problems are (line number, reason)."""

    imported: list[int] = field(default_factory=list)
    already: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def parse_timestamp(text: str, tz: object) -> datetime:
    """A Forms timestamp ('2027/01/12 10:31:05 AM GMT+1', '1/12/2027 10:31:05', ISO) as aware time."""
    text = text.strip()
    offset = None
    match = GMT_RE.search(text)
    if match:
        sign, hours, minutes = match.groups()
        offset = f"{sign}{int(hours):02d}:{minutes or '00'}"
        text = text[:match.start()]
    for fmt in (*FORMATS, None):
        try:
            when = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"timestamp '{text}' is not a date and time")
    if offset:
        return datetime.fromisoformat(when.strftime("%Y-%m-%dT%H:%M:%S") + offset)
    return when if when.tzinfo else when.replace(tzinfo=tz)  # type: ignore[arg-type]


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; download the responses as CSV from the form's Responses tab.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; download it again as CSV.") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "Timestamp" not in [h.strip() for h in rows[0]]:
        raise ConfigError(f"{path}: required column 'Timestamp' could not be found; "
                          "use the Google Forms responses export (Timestamp, Email Address, questions).")
    return [h.strip() for h in rows[0]], rows[1:]


def _column(header: list[str], words: tuple[str, ...]) -> int | None:
    for i, h in enumerate(header):
        if any(w in h.lower() for w in words):
            return i
    return None


def _link_column(header: list[str], rows: list[list[str]], path: Path) -> int:
    found = _column(header, ("notebook", "link", "url"))
    if found is None:
        found = next((i for i in range(len(header)) for r in rows[:20]
                      if i < len(r) and r[i].strip().startswith("http")), None)
    if found is None:
        raise ConfigError(f"{path}: no notebook link column; the form needs a question like 'Notebook link'.")
    return found


def _matcher(members: list[Member]) -> dict[str, Member]:
    index: dict[str, Member] = {}
    for m in members:
        for key in (m.handle, m.name, m.kaggle_username):
            if key:
                index.setdefault(key.strip().lower(), m)
        if m.email:
            index[m.email.strip().lower()] = m
    return index


def import_form(cohort: Cohort, path: Path, week_ref: str) -> FormReport:
    """Import every response as a notebook submission of `week_ref`; reports the rows it skipped."""
    week = cohort.config.week(week_ref)
    header, rows = _read(Path(path))
    cols = _Columns(header.index("Timestamp"), _link_column(header, rows, Path(path)),
                    [i for i in (_column(header, ("email",)), _column(header, ("handle", "kaggle")),
                                 _column(header, ("name",))) if i is not None], header)
    index = _matcher(list_members(cohort.store))
    report = FormReport()
    for line, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            _import_row(cohort, week.id, cols, index, line, row + [""] * (len(header) - len(row)), report)
    return report


@dataclass(frozen=True)
class _Columns:
    time: int
    link: int
    who: list[int]
    header: list[str]


def _import_row(cohort: Cohort, week: str, cols: _Columns, index: dict[str, Member], line: int,
                cells: list[str], report: FormReport) -> None:
    from cohort import submissions

    member = next((index[cells[i].strip().lower()] for i in cols.who if cells[i].strip().lower() in index), None)
    if member is None:
        who = next((cells[i].strip() for i in cols.who if cells[i].strip()), "")
        report.problems.append((line, f"respondent '{who}' matches no member by email, handle or name"))
        return
    try:
        at = parse_timestamp(cells[cols.time], cohort.config.tz)
    except ValueError as exc:
        report.problems.append((line, str(exc)))
        return
    link = cells[cols.link].strip()
    if not link:
        report.problems.append((line, f"no answer in column '{cols.header[cols.link]}'"))
        return
    key = "form:" + hashlib.sha256("\x1f".join([week, *cells]).encode()).hexdigest()[:40]
    with cohort.store.transaction() as tx:
        if store_subs.import_key_exists(tx, key):
            report.already += 1
            return
    try:
        result = submissions.submit(cohort, member.handle, week, None, link, at=at, source="form", import_key=key)
    except CohortError as exc:
        report.problems.append((line, str(exc)))
        return
    report.imported.append(result.submission_id)
