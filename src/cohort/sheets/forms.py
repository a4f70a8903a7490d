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
from dataclasses import dataclass, field
from pathlib import Path

from cohort.errors import CohortError, ConfigError
from cohort.sheets.reader import MemberMatcher, parse_timestamp, read_text
from cohort.sheets.roster import list_members
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort


@dataclass
class FormReport:
    """What an import did; problems are (line number, reason)."""

    imported: list[int] = field(default_factory=list)
    already: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    text = read_text(
        path,
        "download the responses as CSV from the form's Responses tab",
        "download it again as CSV",
    )
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "Timestamp" not in [h.strip() for h in rows[0]]:
        raise ConfigError(
            f"{path}: required column 'Timestamp' could not be found; "
            "use the Google Forms responses export (Timestamp, Email Address, questions)."
        )
    return [h.strip() for h in rows[0]], rows[1:]


def _column(header: list[str], words: tuple[str, ...]) -> int | None:
    for i, h in enumerate(header):
        if any(w in h.lower() for w in words):
            return i
    return None


def _link_column(header: list[str], rows: list[list[str]], path: Path) -> int:
    found = _column(header, ("notebook", "link", "url"))
    if found is None:
        found = next(
            (
                i
                for i in range(len(header))
                for r in rows[:20]
                if i < len(r) and r[i].strip().startswith("http")
            ),
            None,
        )
    if found is None:
        raise ConfigError(
            f"{path}: no notebook link column; the form needs a question like 'Notebook link'."
        )
    return found


def import_form(cohort: Cohort, path: Path, week_ref: str) -> FormReport:
    """Import every response as a notebook submission of `week_ref`; reports the rows it skipped."""
    week = cohort.config.week(week_ref)
    header, rows = _read(Path(path))
    cols = _Columns(
        header.index("Timestamp"),
        _link_column(header, rows, Path(path)),
        [
            i
            for i in (
                _column(header, ("email",)),
                _column(header, ("handle", "kaggle")),
                _column(header, ("name",)),
            )
            if i is not None
        ],
        header,
    )
    matcher = MemberMatcher(list_members(cohort.store))
    report = FormReport()
    for line, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            _import_row(
                cohort, week.id, cols, matcher, line, row + [""] * (len(header) - len(row)), report
            )
    return report


@dataclass(frozen=True)
class _Columns:
    time: int
    link: int
    who: list[int]
    header: list[str]


def _import_row(
    cohort: Cohort,
    week: str,
    cols: _Columns,
    matcher: MemberMatcher,
    line: int,
    cells: list[str],
    report: FormReport,
) -> None:
    from cohort.scoring import intake

    handle, found = matcher.match(cells[i] for i in cols.who)
    if handle is None:
        who = next((cells[i].strip() for i in cols.who if cells[i].strip()), "")
        problem = (
            f"matches several members ({', '.join(sorted(found))})"
            if found
            else "matches no member by email, handle or name"
        )
        report.problems.append((line, f"respondent '{who}' {problem}"))
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
        result = intake.submit(
            cohort, handle, week, None, link, at=at, source="form", import_key=key
        )
    except CohortError as exc:
        report.problems.append((line, str(exc)))
        return
    report.imported.append(result.submission_id)
