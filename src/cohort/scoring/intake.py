"""Intake: validating and storing a submission, and the intake rules (deadline, daily limit).

The rules live here once; the store's few reads and writes an intake makes go through a
ledger: `cohort.store` (SQLAlchemy: any store, migrating it first), or, for `cohort submit`
on a store already at head, `cohort.rawstore` on the driver (no SQLAlchemy import: most of
the command's start-up). Both ledgers run the same statements in the same transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cohort.config import CohortConfig, Week
from cohort.errors import IntakeRefused, ValidationError
from cohort.scoring.parsed import files_guard, store_file
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cohort.rawstore import RawStore
    from cohort.scoring.solution import Solution
    from cohort.store import Tx


@dataclass(frozen=True)
class SubmitResult:
    """What a member is told after submitting (public score only)."""

    submission_id: int
    week: str
    handle: str
    status: str
    public_score: float | None
    remaining_today: int
    warnings: list[str] = field(default_factory=list)
    late: bool = False  # after the member's deadline: scored for them, counted nowhere


class Writes(Protocol):
    """The statements of an intake's one write transaction."""

    def lock(self, member_id: int, week: str) -> None: ...
    def add(self, **fields: Any) -> int: ...
    def count_files(self, member_id: int, week: str, start: datetime, end: datetime) -> int: ...
    def score(
        self, solution: Solution, sid: int, values: np.ndarray, at: datetime
    ) -> float | None: ...


class Ledger(Protocol):
    """The store's reads (one transaction each) and the write transaction of an intake."""

    def member(self, handle: str) -> tuple[int, str]: ...  # (id, kaggle_username) or NotFound
    def import_key_exists(self, key: str) -> bool: ...
    def deadline(self, week: Week, handle: str) -> datetime: ...
    def files_between(self, handle: str, week: str, start: datetime, end: datetime) -> int: ...
    def write(self) -> AbstractContextManager[Writes]: ...


class _StoreLedger:
    """An intake on cohort.store (SQLAlchemy)."""

    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort

    def member(self, handle: str) -> tuple[int, str]:
        from cohort.store import members as store_members

        with self.cohort.store.transaction() as tx:
            member = store_members.by_handle(tx, handle)
        return member.id, member.kaggle_username

    def import_key_exists(self, key: str) -> bool:
        from cohort.store import submissions as store_subs

        with self.cohort.store.transaction() as tx:
            return store_subs.import_key_exists(tx, key)

    def deadline(self, week: Week, handle: str) -> datetime:
        from cohort.scoring.deadlines import deadline

        return deadline(self.cohort, week, handle)

    def files_between(self, handle: str, week: str, start: datetime, end: datetime) -> int:
        from cohort.store import members as store_members
        from cohort.store import submissions as store_subs

        with self.cohort.store.transaction() as tx:
            member = store_members.by_handle(tx, handle)
            return store_subs.count_files_between(tx, member.id, week, start, end)

    @contextmanager
    def write(self) -> Iterator[Writes]:
        with self.cohort.store.transaction() as tx:
            yield _StoreWrites(tx)


class _StoreWrites:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def lock(self, member_id: int, week: str) -> None:
        from cohort.store import submissions as store_subs

        store_subs.lock_intake(self.tx, member_id, week)

    def add(self, **fields: Any) -> int:
        from cohort.store import submissions as store_subs

        return store_subs.add(self.tx, **fields)

    def count_files(self, member_id: int, week: str, start: datetime, end: datetime) -> int:
        from cohort.store import submissions as store_subs

        return store_subs.count_files_between(self.tx, member_id, week, start, end)

    def score(self, solution: Solution, sid: int, values: np.ndarray, at: datetime) -> float | None:
        from cohort.scoring import runs

        return runs.score_new(self.tx, solution, sid, values, at)


class _DriverLedger:
    """An intake on cohort.rawstore: the same statements on the driver, for a current store."""

    def __init__(self, raw: RawStore) -> None:
        self.raw = raw

    def member(self, handle: str) -> tuple[int, str]:
        with self.raw.reading() as db:
            return db.member(handle)

    def import_key_exists(self, key: str) -> bool:
        with self.raw.reading() as db:
            return db.import_key_exists(key)

    def deadline(self, week: Week, handle: str) -> datetime:
        with self.raw.reading() as db:
            extension, revealed = db.extension(week.id, handle), db.revealed_at(week.id)
        # scoring.deadlines.deadline's rule (tests/test_rawstore.py holds the two equal).
        until = (
            extension if extension is not None and extension > week.closes_at else week.closes_at
        )
        return until if revealed is None else min(until, revealed)

    def files_between(self, handle: str, week: str, start: datetime, end: datetime) -> int:
        with self.raw.reading() as db:
            member_id, _ = db.member(handle)
            return db.count_files(member_id, week, start, end)

    @contextmanager
    def write(self) -> Iterator[Writes]:
        with self.raw.writing() as db:
            yield _DriverWrites(db)


class _DriverWrites:
    def __init__(self, db: RawStore) -> None:
        self.db = db

    def lock(self, member_id: int, week: str) -> None:
        self.db.lock_intake(member_id, week)

    def add(self, **fields: Any) -> int:
        return self.db.add_submission(fields)

    def count_files(self, member_id: int, week: str, start: datetime, end: datetime) -> int:
        return self.db.count_files(member_id, week, start, end)

    def score(self, solution: Solution, sid: int, values: np.ndarray, at: datetime) -> float | None:
        # runs.score_new's writes, statement for statement.
        from cohort.scoring import compute

        row = compute.score_one(solution, sid, values)
        self.db.upsert_score(row)
        self.db.set_status(sid, "scored", "")
        if not self.db.scored_sha(solution.week):
            self.db.set_scored_sha(solution.week, solution.sha256)
        return row["public_score"]  # type: ignore[no-any-return]


def validate_file(cohort: Cohort, week_ref: str, path: Path) -> pd.DataFrame:
    """Check a file as `cohort submit` would, storing nothing; the predictions by id."""
    from cohort.scoring.validation import check_file

    return check_file(cohort, week_ref, path).frame


def local_day(config: CohortConfig, at: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of the cohort-timezone day holding `at`."""
    tz = config.tz
    day = at.astimezone(tz).date()
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def remaining_today(cohort: Cohort, handle: str, week_ref: str, at: datetime | None = None) -> int:
    """How many more files the member may submit for the week today (cohort timezone)."""
    return _files_left(cohort.config, _StoreLedger(cohort), handle, week_ref, at or utcnow())


def _files_left(
    config: CohortConfig, ledger: Ledger, handle: str, week_ref: str, at: datetime
) -> int:
    week = config.week(week_ref)
    start, end, _ = counting_window(config, ledger, week, handle, at)
    used = ledger.files_between(handle, week.id, start, end)
    return max(0, week.competition.daily_limit - used)


def counting_window(
    config: CohortConfig, ledger: Ledger, week: Week, handle: str, at: datetime
) -> tuple[datetime, datetime, bool]:
    """The [start, end) whose files count toward the daily limit at `at`, and whether `at` is late.

    On-time and late files never count against each other: before the member's deadline the
    day ends at the deadline; after it, only the day's late files count."""
    start, end = local_day(config, at)
    until = ledger.deadline(week, handle)
    if at < until:
        return start, min(end, until), False
    return max(start, until), end, True


def _local(config: CohortConfig, when: datetime) -> str:
    return when.astimezone(config.tz).strftime(f"%Y-%m-%d %H:%M %Z ({config.timezone})")


def check_window(
    config: CohortConfig, ledger: Ledger, week: Week, at: datetime, handle: str | None = None
) -> list[str]:
    """Refuse a submission before the week opens; after the member's deadline (the close,
    their extension, or an early reveal) it is a late submission: the note to tell them."""
    if at >= week.closes_at or handle:
        until = ledger.deadline(week, handle) if handle else week.closes_at
        if at >= until:
            closed = (
                "closed"
                if until == week.closes_at
                else f"closed for {handle}"
                if until > week.closes_at
                else "was closed by its reveal"
            )
            return [
                f"Week '{week.id}' {closed} at {_local(config, until)}: this is a late submission. "
                "It is scored and shown to you (the private score once revealed), but counts on "
                "no leaderboard and in no standings; late files have their own daily allowance, "
                "apart from on-time files."
            ]
    if at < week.opens_at:
        raise IntakeRefused(
            f"Week '{week.id}' opens at {_local(config, week.opens_at)}; submit again once it is open."
        )
    return []


def _read(config: CohortConfig, week_ref: str, path: Path) -> bytes:
    from cohort.scoring.solution import load_solution
    from cohort.scoring.validation import limit_bytes, read_limited

    return read_limited(Path(path), limit_bytes(load_solution(config, week_ref)))


def submit(
    cohort: Cohort,
    handle: str,
    week_ref: str,
    path: Path | None,
    notebook_url: str | None = None,
    *,
    at: datetime | None = None,
    source: str = "cli",
    import_key: str | None = None,
    file_name: str | None = None,
    score: bool = True,
) -> SubmitResult:
    """Validate, store and (by default) score one submission: a file, a notebook link, or both."""
    data = None if path is None else _read(cohort.config, week_ref, path)
    return _intake(
        cohort.config,
        _StoreLedger(cohort),
        handle,
        week_ref,
        data,
        file_name or (Path(path).name if path else ""),
        notebook_url,
        at=at,
        source=source,
        import_key=import_key,
        score=score,
    )


def submit_at(
    config: CohortConfig,
    url: str,
    handle: str,
    week_ref: str,
    path: Path | None,
    notebook_url: str | None,
    open_cohort: Callable[[], Cohort],
) -> SubmitResult:
    """`submit` for the command line: on the driver when the store at `url` stands at every
    migration head (one query decides; SQLAlchemy is never imported), else on the cohort
    `open_cohort` opens (which migrates the store, or says why it cannot)."""
    from cohort import rawstore

    raw = rawstore.open_current(url)
    if raw is None:
        return submit(open_cohort(), handle, week_ref, path, notebook_url)
    with raw:
        data = None if path is None else _read(config, week_ref, path)
        name = Path(path).name if path else ""
        return _intake(config, _DriverLedger(raw), handle, week_ref, data, name, notebook_url)


def submit_bytes(
    cohort: Cohort,
    handle: str,
    week_ref: str,
    data: bytes,
    file_name: str,
    notebook_url: str | None = None,
    **kw: Any,
) -> SubmitResult:
    """`submit` for an upload already in memory (the app, the Kaggle collector)."""
    return _intake(
        cohort.config, _StoreLedger(cohort), handle, week_ref, data, file_name, notebook_url, **kw
    )


def _intake(
    config: CohortConfig,
    ledger: Ledger,
    handle: str,
    week_ref: str,
    data: bytes | None,
    file_name: str,
    notebook_url: str | None,
    *,
    at: datetime | None = None,
    source: str = "cli",
    import_key: str | None = None,
    score: bool = True,
) -> SubmitResult:
    week = config.week(week_ref)
    at = at or utcnow()
    if data is None and not notebook_url:
        raise ValidationError(
            "Nothing to submit; pass a predictions FILE, a --notebook URL, or both."
        )
    warnings: list[str] = []
    if notebook_url:
        from cohort.scoring.links import check_notebook_url

        link = check_notebook_url(notebook_url)  # refused with control characters or a login
        warnings, notebook_url = list(link.warnings), link.url
    member_id, kaggle_username = ledger.member(handle)
    if import_key and ledger.import_key_exists(import_key):
        raise IntakeRefused(
            f"Submission with import key '{import_key}' was already imported; nothing to do."
        )
    if notebook_url:
        from cohort.scoring.links import owner_warning

        owned = owner_warning(link, kaggle_username)
        warnings += [owned] if owned else []
    late = check_window(config, ledger, week, at, handle)
    warnings += late
    entry = _Entry(config, ledger, week, member_id, handle, at, source, notebook_url or "")
    if data is None:
        result = _record_notebook(entry, import_key, warnings)
    else:
        result = _record_file(entry, data, file_name, import_key, warnings, score)
    return replace(result, late=bool(late))


@dataclass(frozen=True)
class _Entry:
    """Who submits what, when, where: what both kinds of record share."""

    config: CohortConfig
    ledger: Ledger
    week: Week
    member_id: int
    handle: str
    at: datetime
    source: str
    url: str


def _record_notebook(entry: _Entry, import_key: str | None, warnings: list[str]) -> SubmitResult:
    with entry.ledger.write() as db:
        sid = db.add(
            member_id=entry.member_id,
            week=entry.week.id,
            submitted_at=entry.at,
            source=entry.source,
            notebook_url=entry.url,
            file_sha256="",
            file_name="",
            status="notebook",
            error="",
            import_key=import_key,
        )
    left = _files_left(entry.config, entry.ledger, entry.handle, entry.week.id, entry.at)
    return SubmitResult(sid, entry.week.id, entry.handle, "notebook", None, left, warnings)


def _record_file(
    entry: _Entry,
    data: bytes,
    file_name: str,
    import_key: str | None,
    warnings: list[str],
    score: bool,
) -> SubmitResult:
    from cohort.scoring.solution import load_solution
    from cohort.scoring.validation import parse

    config, ledger, week, handle, at = (
        entry.config,
        entry.ledger,
        entry.week,
        entry.handle,
        entry.at,
    )
    solution = load_solution(config, week.id)
    if (
        _files_left(config, ledger, handle, week.id, at) <= 0
    ):  # fast path: don't parse what is refused
        raise _limit_reached(config, ledger, week, handle, at)
    parsed = parse(data, file_name, solution)
    public = None
    start, end, _ = counting_window(config, ledger, week, handle, at)
    # Stored files are content-addressed and shared: an intake never removes one, even when
    # it is refused (another intake of the same bytes may have committed it meanwhile).
    # Orphans are removed only by `cohort check --repair`, which waits for this guard.
    with files_guard(config):
        sha, _created = store_file(config, solution, data, file_name, parsed)
        with ledger.write() as db:
            # PostgreSQL: an advisory lock on (member, week) first. SQLite: the insert first,
            # which takes the write lock. Either way two intakes for one member count one
            # after the other and cannot both pass.
            db.lock(entry.member_id, week.id)
            sid = db.add(
                member_id=entry.member_id,
                week=week.id,
                submitted_at=at,
                source=entry.source,
                notebook_url=entry.url,
                file_sha256=sha,
                file_name=file_name[:255],
                status="pending",
                error="",
                import_key=import_key,
            )
            left = week.competition.daily_limit - db.count_files(
                entry.member_id, week.id, start, end
            )
            if left < 0:
                raise _limit_reached(config, ledger, week, handle, at)
            if score:
                public = db.score(solution, sid, parsed.values, at)
    return SubmitResult(
        sid, week.id, handle, "scored" if score else "pending", public, left, warnings
    )


def _limit_reached(
    config: CohortConfig, ledger: Ledger, week: Week, handle: str, at: datetime
) -> IntakeRefused:
    day = at.astimezone(config.tz).date()
    late = counting_window(config, ledger, week, handle, at)[2]
    what = "late submissions (late files have their own daily allowance)" if late else "submissions"
    return IntakeRefused(
        f"Member '{handle}' has used all {week.competition.daily_limit} {what} for week '{week.id}' "
        f"on {day} ({config.timezone}); submit again after midnight there."
    )
