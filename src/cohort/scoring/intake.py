"""Intake: validating and storing a submission, and the intake rules (deadline, daily limit)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.config import Week
from cohort.errors import IntakeRefused, ValidationError
from cohort.scoring.parsed import files_guard, store_file
from cohort.store import members as store_members
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    import pandas as pd


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


def validate_file(cohort: Cohort, week_ref: str, path: Path) -> pd.DataFrame:
    """Check a file as `cohort submit` would, storing nothing; the predictions by id."""
    from cohort.scoring.validation import check_file

    return check_file(cohort, week_ref, path).frame


def local_day(cohort: Cohort, at: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of the cohort-timezone day holding `at`."""
    tz = cohort.config.tz
    day = at.astimezone(tz).date()
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def remaining_today(cohort: Cohort, handle: str, week_ref: str, at: datetime | None = None) -> int:
    """How many more files the member may submit for the week today (cohort timezone)."""
    week = cohort.config.week(week_ref)
    start, end, _ = counting_window(cohort, week, handle, at or utcnow())
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        used = store_subs.count_files_between(tx, member.id, week.id, start, end)
    return max(0, week.competition.daily_limit - used)


def counting_window(
    cohort: Cohort, week: Week, handle: str, at: datetime
) -> tuple[datetime, datetime, bool]:
    """The [start, end) whose files count toward the daily limit at `at`, and whether `at` is late.

    On-time and late files never count against each other: before the member's deadline the
    day ends at the deadline; after it, only the day's late files count."""
    from cohort.scoring.deadlines import deadline

    start, end = local_day(cohort, at)
    until = deadline(cohort, week, handle)
    if at < until:
        return start, min(end, until), False
    return max(start, until), end, True


def _local(cohort: Cohort, when: datetime) -> str:
    return when.astimezone(cohort.config.tz).strftime(
        f"%Y-%m-%d %H:%M %Z ({cohort.config.timezone})"
    )


def check_window(cohort: Cohort, week: Week, at: datetime, handle: str | None = None) -> list[str]:
    """Refuse a submission before the week opens; after the member's deadline (the close,
    their extension, or an early reveal) it is a late submission: the note to tell them."""
    if at >= week.closes_at or handle:
        from cohort.scoring.deadlines import deadline

        until = deadline(cohort, week, handle) if handle else week.closes_at
        if at >= until:
            closed = (
                "closed"
                if until == week.closes_at
                else f"closed for {handle}"
                if until > week.closes_at
                else "was closed by its reveal"
            )
            return [
                f"Week '{week.id}' {closed} at {_local(cohort, until)}: this is a late submission. "
                "It is scored and shown to you (the private score once revealed), but counts on "
                "no leaderboard and in no standings; late files have their own daily allowance, "
                "apart from on-time files."
            ]
    if at < week.opens_at:
        raise IntakeRefused(
            f"Week '{week.id}' opens at {_local(cohort, week.opens_at)}; submit again once it is open."
        )
    return []


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
    data = None
    if path is not None:
        from cohort.scoring.solution import load_solution
        from cohort.scoring.validation import limit_bytes, read_limited

        data = read_limited(Path(path), limit_bytes(load_solution(cohort, week_ref)))
    return _intake(
        cohort,
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
    return _intake(cohort, handle, week_ref, data, file_name, notebook_url, **kw)


def _intake(
    cohort: Cohort,
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
    week = cohort.config.week(week_ref)
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
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        if import_key and store_subs.import_key_exists(tx, import_key):
            raise IntakeRefused(
                f"Submission with import key '{import_key}' was already imported; nothing to do."
            )
    if notebook_url:
        from cohort.scoring.links import owner_warning

        owned = owner_warning(link, member.kaggle_username)
        warnings += [owned] if owned else []
    late = check_window(cohort, week, at, handle)
    warnings += late
    if data is None:
        result = _record_notebook(
            cohort, week, member.id, handle, at, source, notebook_url or "", import_key, warnings
        )
        return replace(result, late=bool(late))
    result = _record_file(
        cohort,
        week,
        member.id,
        handle,
        data,
        file_name,
        at,
        source,
        notebook_url or "",
        import_key,
        warnings,
        score,
    )
    return replace(result, late=bool(late))


def _record_notebook(
    cohort: Cohort,
    week: Week,
    member_id: int,
    handle: str,
    at: datetime,
    source: str,
    url: str,
    import_key: str | None,
    warnings: list[str],
) -> SubmitResult:
    with cohort.store.transaction() as tx:
        sid = store_subs.add(
            tx,
            member_id=member_id,
            week=week.id,
            submitted_at=at,
            source=source,
            notebook_url=url,
            file_sha256="",
            file_name="",
            status="notebook",
            error="",
            import_key=import_key,
        )
    left = remaining_today(cohort, handle, week.id, at)
    return SubmitResult(sid, week.id, handle, "notebook", None, left, warnings)


def _record_file(
    cohort: Cohort,
    week: Week,
    member_id: int,
    handle: str,
    data: bytes,
    file_name: str,
    at: datetime,
    source: str,
    url: str,
    import_key: str | None,
    warnings: list[str],
    score: bool,
) -> SubmitResult:
    from cohort.scoring import runs
    from cohort.scoring.solution import load_solution
    from cohort.scoring.validation import parse

    solution = load_solution(cohort, week.id)
    if remaining_today(cohort, handle, week.id, at) <= 0:  # fast path: don't parse what is refused
        raise _limit_reached(cohort, week, handle, at)
    parsed = parse(data, file_name, solution)
    public = None
    start, end, _ = counting_window(cohort, week, handle, at)
    # Stored files are content-addressed and shared: an intake never removes one, even when
    # it is refused (another intake of the same bytes may have committed it meanwhile).
    # Orphans are removed only by `cohort check --repair`, which waits for this guard.
    with files_guard(cohort):
        sha, _created = store_file(cohort, solution, data, file_name, parsed)
        with cohort.store.transaction() as tx:
            # PostgreSQL: an advisory lock on (member, week) first. SQLite: the insert first,
            # which takes the write lock. Either way two intakes for one member count one
            # after the other and cannot both pass.
            store_subs.lock_intake(tx, member_id, week.id)
            sid = store_subs.add(
                tx,
                member_id=member_id,
                week=week.id,
                submitted_at=at,
                source=source,
                notebook_url=url,
                file_sha256=sha,
                file_name=file_name[:255],
                status="pending",
                error="",
                import_key=import_key,
            )
            left = week.competition.daily_limit - store_subs.count_files_between(
                tx, member_id, week.id, start, end
            )
            if left < 0:
                raise _limit_reached(cohort, week, handle, at)
            if score:
                public = runs.score_new(tx, solution, sid, parsed.values, at)
    return SubmitResult(
        sid, week.id, handle, "scored" if score else "pending", public, left, warnings
    )


def _limit_reached(cohort: Cohort, week: Week, handle: str, at: datetime) -> IntakeRefused:
    day = at.astimezone(cohort.config.tz).date()
    late = counting_window(cohort, week, handle, at)[2]
    what = "late submissions (late files have their own daily allowance)" if late else "submissions"
    return IntakeRefused(
        f"Member '{handle}' has used all {week.competition.daily_limit} {what} for week '{week.id}' "
        f"on {day} ({cohort.config.timezone}); submit again after midnight there."
    )
