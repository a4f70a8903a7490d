"""Intake: validating and storing submission files, and the intake rules (deadline, daily limit).

Each file is stored once under submissions/<week>/ by its sha256 and never modified.
Beside it, submissions/<week>/parsed/ keeps the predictions already aligned with the
solution as a .npy array, so rescoring reads arrays instead of parsing CSVs again.
That parsed form is a cache, keyed by the solution's ids and classes: when they
change, the scorer rebuilds it from the stored file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.config import Week
from cohort.errors import IntakeRefused, NotFound, ValidationError
from cohort.store import members as store_members
from cohort.store import submissions as store_subs
from cohort.workspace import Cohort, utcnow

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cohort.scoring import Solution
    from cohort.validation import Parsed

SUFFIXES = (".csv.gz", ".zip", ".csv")


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


def week_dir(cohort: Cohort, week: Week) -> Path:
    """submissions/<week>/ of one week."""
    return cohort.config.submissions_dir / week.id


def raw_path(cohort: Cohort, week: Week, sha: str) -> Path | None:
    """The stored file with this sha, whatever its suffix, if any."""
    for suffix in SUFFIXES:
        path = week_dir(cohort, week) / f"{sha}{suffix}"
        if path.exists():
            return path
    return None


def parsed_path(cohort: Cohort, week: Week, sha: str, solution_key: str) -> Path:
    """Where the parsed predictions of a file live for one version of the solution's ids."""
    return week_dir(cohort, week) / "parsed" / f"{sha}-{solution_key[:16]}.npy"


def stored_path(cohort: Cohort, week: Week, sha: str, file_name: str) -> Path:
    """Where intake stores a file with this sha and original name."""
    return week_dir(cohort, week) / f"{sha}{_suffix(file_name)}"


def _suffix(file_name: str) -> str:
    name = file_name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), ".csv")


def validate_file(cohort: Cohort, week_ref: str, path: Path) -> pd.DataFrame:
    """Check a file as `cohort submit` would, storing nothing; the predictions by id."""
    from cohort.scoring import load_solution
    from cohort.validation import limit_bytes, parse, read_limited

    solution = load_solution(cohort, week_ref)
    return parse(read_limited(Path(path), limit_bytes(solution)), Path(path).name, solution).frame


def load_predictions(cohort: Cohort, week_ref: str, sha256: str) -> pd.DataFrame:
    """A stored submission's predictions, indexed by id, in solution order."""
    import pandas as pd

    from cohort.scoring import load_solution

    solution = load_solution(cohort, week_ref)
    values = stored_values(cohort, solution, sha256)
    if solution.kind == "label":
        values = solution.decode_labels(values)
    frame = pd.DataFrame(values.reshape(len(solution.ids), -1), index=solution.ids,
                         columns=list(solution.target_columns))
    return frame


def stored_values(cohort: Cohort, solution: Solution, sha: str, rebuild: bool = False) -> np.ndarray:
    """Encoded predictions of a stored file: the parsed cache, rebuilt from the file if missing
    (or, with `rebuild`, if it does not hold what the validator makes of the file)."""
    import numpy as np

    week = cohort.config.week(solution.week)
    cached = parsed_path(cohort, week, sha, solution.key)
    try:
        values = npy_values(cached.read_bytes())
        if not rebuild:
            return values
        dtype, shape = values_layout(solution)
        if values.dtype == dtype and values.shape == shape:
            return values
        cached.unlink()
    except FileNotFoundError:
        pass
    from cohort.validation import parse

    raw = raw_path(cohort, week, sha)
    if raw is None:
        raise NotFound(f"Stored file {sha[:12]} of week '{week.id}' is missing from {week_dir(cohort, week)}; restore it from a backup.")
    values = parse(raw.read_bytes(), raw.name, solution).values
    _write_once(cached, lambda fh: np.save(fh, values))
    return values


def values_layout(solution: Solution) -> tuple[Any, tuple[int, ...]]:
    """The dtype and shape of a week's parsed predictions, as the validator produces them."""
    import numpy as np

    n, t = len(solution.ids), len(solution.target_columns)
    if solution.kind == "label":
        return np.dtype(np.int16 if len(solution.classes) < 32000 else np.int32), ((n,) if t == 1 else (n, t))
    return np.dtype(np.float64), ((n,) if t == 1 and solution.kind != "proba" else (n, t))


def _npy_header(dtype: Any, shape: tuple[int, ...]) -> bytes:
    import io

    import numpy as np

    with io.BytesIO() as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                  "fortran_order": False, "shape": shape})
        return fh.getvalue()


def read_stack(cohort: Cohort, solution: Solution, shas: list[str]) -> tuple[np.ndarray, dict[int, str]]:
    """Many stored submissions' parsed predictions as one (len(shas), ...) array.

    Each file is read straight into its row of the array (no np.load, no copy); a missing
    or stale parsed file is rebuilt from the stored file. Returns the array and, for rows
    that could not be read, the reason (those rows hold garbage)."""
    import numpy as np

    dtype, shape = values_layout(solution)
    header = _npy_header(dtype, shape)
    stack = np.empty((len(shas), *shape), dtype)
    row_bytes = stack[0].nbytes if len(shas) else 0
    view = memoryview(stack.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    folder = str(parsed_path(cohort, cohort.config.week(solution.week), "x", solution.key).parent)
    suffix = f"-{solution.key[:16]}.npy"
    errors: dict[int, str] = {}
    head = bytearray(len(header))
    for i, sha in enumerate(shas):
        try:
            fd = os.open(f"{folder}/{sha}{suffix}", os.O_RDONLY)
        except FileNotFoundError:
            fd = -1
        if fd >= 0:
            try:  # one system call reads the header and the row in place
                got = os.readv(fd, [head, view[i * row_bytes:(i + 1) * row_bytes]])
            finally:
                os.close(fd)
            if got == len(header) + row_bytes and head == header:
                continue
        try:
            stack[i] = stored_values(cohort, solution, sha, rebuild=True)
        except (ValidationError, NotFound, ValueError) as exc:
            errors[i] = str(exc)
    return stack, errors


_NPY_HEADERS: dict[bytes, tuple[Any, tuple[int, ...]]] = {}


def npy_values(data: bytes) -> np.ndarray:
    """An array from .npy bytes, without copying; headers are parsed once and remembered.

    np.load costs ~100 us a file, mostly header parsing; rescoring thousands of files
    of the same shape needs only the first one parsed."""
    import numpy as np

    start = 10 + int.from_bytes(data[8:10], "little") if data[6:7] == b"\x01" else -1
    known = _NPY_HEADERS.get(data[:start]) if start > 0 else None
    if known is None:
        import io

        with io.BytesIO(data) as fh:
            major, _ = np.lib.format.read_magic(fh)
            if major != 1:
                fh.seek(0)
                return np.load(fh)
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            if fortran or dtype.hasobject:
                fh.seek(0)
                return np.load(fh)
        known = _NPY_HEADERS.setdefault(data[:start], (dtype, shape))
    dtype, shape = known
    return np.frombuffer(data, dtype=dtype, offset=start).reshape(shape)


def _write_once(path: Path, write: Any) -> bool:
    """Write a file atomically unless it exists; True when this call created it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def store_file(cohort: Cohort, solution: Solution, data: bytes, file_name: str, parsed: Parsed) -> tuple[str, list[Path]]:
    """Store the raw file and its parsed form by sha256; returns the sha and the paths created."""
    import numpy as np

    week = cohort.config.week(solution.week)
    sha = hashlib.sha256(data).hexdigest()
    created = []
    if raw_path(cohort, week, sha) is None:
        raw = stored_path(cohort, week, sha, file_name)
        if _write_once(raw, lambda fh: fh.write(data)):
            created.append(raw)
    cached = parsed_path(cohort, week, sha, solution.key)
    if _write_once(cached, lambda fh: np.save(fh, parsed.values)):
        created.append(cached)
    return sha, created


def local_day(cohort: Cohort, at: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of the cohort-timezone day holding `at`."""
    tz = cohort.config.tz
    day = at.astimezone(tz).date()
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def remaining_today(cohort: Cohort, handle: str, week_ref: str, at: datetime | None = None) -> int:
    """How many more files the member may submit for the week today (cohort timezone)."""
    week = cohort.config.week(week_ref)
    start, end = local_day(cohort, at or utcnow())
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        used = store_subs.count_files_between(tx, member.id, week.id, start, end)
    return max(0, week.competition.daily_limit - used)


def _local(cohort: Cohort, when: datetime) -> str:
    return when.astimezone(cohort.config.tz).strftime(f"%Y-%m-%d %H:%M %Z ({cohort.config.timezone})")


def check_window(cohort: Cohort, week: Week, at: datetime) -> None:
    """Refuse a submission outside the week's open window, naming the local time."""
    if at >= week.closes_at:
        raise IntakeRefused(
            f"Week '{week.id}' closed at {_local(cohort, week.closes_at)}; late submissions are not accepted.")
    if at < week.opens_at:
        raise IntakeRefused(
            f"Week '{week.id}' opens at {_local(cohort, week.opens_at)}; submit again once it is open.")


def submit(cohort: Cohort, handle: str, week_ref: str, path: Path | None, notebook_url: str | None = None, *,
           at: datetime | None = None, source: str = "cli", import_key: str | None = None,
           file_name: str | None = None, score: bool = True) -> SubmitResult:
    """Validate, store and (by default) score one submission: a file, a notebook link, or both."""
    data = None
    if path is not None:
        from cohort.scoring import load_solution
        from cohort.validation import limit_bytes, read_limited

        data = read_limited(Path(path), limit_bytes(load_solution(cohort, week_ref)))
    return _intake(cohort, handle, week_ref, data, file_name or (Path(path).name if path else ""),
                   notebook_url, at=at, source=source, import_key=import_key, score=score)


def submit_bytes(cohort: Cohort, handle: str, week_ref: str, data: bytes, file_name: str,
                 notebook_url: str | None = None, **kw: Any) -> SubmitResult:
    """`submit` for an upload already in memory (the app, the Kaggle collector)."""
    return _intake(cohort, handle, week_ref, data, file_name, notebook_url, **kw)


def _intake(cohort: Cohort, handle: str, week_ref: str, data: bytes | None, file_name: str,
            notebook_url: str | None, *, at: datetime | None = None, source: str = "cli",
            import_key: str | None = None, score: bool = True) -> SubmitResult:
    week = cohort.config.week(week_ref)
    at = at or utcnow()
    if data is None and not notebook_url:
        raise ValidationError("Nothing to submit; pass a predictions FILE, a --notebook URL, or both.")
    warnings: list[str] = []
    if notebook_url:
        from cohort.links import check_notebook_url

        warnings = list(check_notebook_url(notebook_url).warnings)
    with cohort.store.transaction() as tx:
        member = store_members.by_handle(tx, handle)
        if import_key and store_subs.import_key_exists(tx, import_key):
            raise IntakeRefused(f"Submission with import key '{import_key}' was already imported; nothing to do.")
    check_window(cohort, week, at)
    if data is None:
        return _record_notebook(cohort, week, member.id, handle, at, source, notebook_url or "", import_key, warnings)
    return _record_file(cohort, week, member.id, handle, data, file_name, at, source,
                        notebook_url or "", import_key, warnings, score)


def _record_notebook(cohort: Cohort, week: Week, member_id: int, handle: str, at: datetime, source: str,
                     url: str, import_key: str | None, warnings: list[str]) -> SubmitResult:
    with cohort.store.transaction() as tx:
        sid = store_subs.add(tx, member_id=member_id, week=week.id, submitted_at=at, source=source,
                             notebook_url=url, file_sha256="", file_name="", status="notebook",
                             error="", import_key=import_key)
    left = remaining_today(cohort, handle, week.id, at)
    return SubmitResult(sid, week.id, handle, "notebook", None, left, warnings)


def _record_file(cohort: Cohort, week: Week, member_id: int, handle: str, data: bytes, file_name: str,
                 at: datetime, source: str, url: str, import_key: str | None, warnings: list[str],
                 score: bool) -> SubmitResult:
    from cohort import scoring
    from cohort.validation import parse

    solution = scoring.load_solution(cohort, week.id)
    if remaining_today(cohort, handle, week.id, at) <= 0:  # fast path: don't parse what is refused
        raise _limit_reached(cohort, week, handle, at)
    parsed = parse(data, file_name, solution)
    sha, created = store_file(cohort, solution, data, file_name, parsed)
    public = None
    start, end = local_day(cohort, at)
    try:
        with cohort.store.transaction() as tx:
            # The insert comes first so it takes SQLite's write lock (PostgreSQL: the member row lock):
            # two intakes for one member then count one after the other and cannot both pass.
            sid = store_subs.add(tx, member_id=member_id, week=week.id, submitted_at=at, source=source,
                                 notebook_url=url, file_sha256=sha, file_name=file_name[:255],
                                 status="pending", error="", import_key=import_key)
            store_subs.lock_member(tx, member_id)
            left = week.competition.daily_limit - store_subs.count_files_between(tx, member_id, week.id, start, end)
            if left < 0:
                raise _limit_reached(cohort, week, handle, at)
            if score:
                public = scoring.score_new(tx, solution, sid, parsed.values, at)
    except BaseException:
        for path in created:  # a failed intake leaves no file behind
            path.unlink(missing_ok=True)
        raise
    return SubmitResult(sid, week.id, handle, "scored" if score else "pending", public, left, warnings)


def _limit_reached(cohort: Cohort, week: Week, handle: str, at: datetime) -> IntakeRefused:
    day = at.astimezone(cohort.config.tz).date()
    return IntakeRefused(
        f"Member '{handle}' has used all {week.competition.daily_limit} submissions for week '{week.id}' "
        f"on {day} ({cohort.config.timezone}); submit again after midnight there.")
