"""Stored submission files and the parsed-array cache beside them: one owner, one layout.

Each file is stored once under submissions/<week>/ by its sha256 and never modified. Beside
it, its parsed predictions are kept as a .npy array aligned to the solution's id order and
keyed by the solution's id key, so rescoring reads arrays, not CSV.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohort.config import CohortConfig, Week
from cohort.errors import CohortError, Conflict, NotFound, StorageError, ValidationError
from cohort.workspace import Cohort

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from cohort.scoring.solution import Solution
    from cohort.scoring.validation import Parsed

SUFFIXES = (".csv.gz", ".zip", ".csv")

_NPY_HEADERS: dict[bytes, tuple[Any, tuple[int, ...]]] = {}


def _config(source: Cohort | CohortConfig) -> CohortConfig:
    # Intake on the driver (cohort.rawstore) holds the config alone: no Store, no SQLAlchemy.
    return source if isinstance(source, CohortConfig) else source.config


def week_dir(cohort: Cohort | CohortConfig, week: Week) -> Path:
    """submissions/<week>/ of one week."""
    return _config(cohort).submissions_dir / week.id


def raw_path(cohort: Cohort | CohortConfig, week: Week, sha: str) -> Path | None:
    """The stored file with this sha, whatever its suffix, if any."""
    for suffix in (".csv", ".csv.gz", ".zip"):  # most files are plain CSV: one lookup
        path = week_dir(cohort, week) / f"{sha}{suffix}"
        if path.exists():
            return path
    return None


def parsed_path(cohort: Cohort | CohortConfig, week: Week, sha: str, solution_key: str) -> Path:
    """Where the parsed predictions of a file live for one version of the solution's ids."""
    return week_dir(cohort, week) / "parsed" / f"{sha}-{solution_key[:16]}.npy"


def stored_path(cohort: Cohort | CohortConfig, week: Week, sha: str, file_name: str) -> Path:
    """Where intake stores a file with this sha and original name."""
    return week_dir(cohort, week) / f"{sha}{_suffix(file_name)}"


def _suffix(file_name: str) -> str:
    name = file_name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), ".csv")


def load_predictions(cohort: Cohort, week_ref: str, sha256: str) -> pd.DataFrame:
    """A stored submission's predictions, indexed by id, in solution order."""
    import pandas as pd

    from cohort.scoring.solution import load_solution

    solution = load_solution(cohort, week_ref)
    values = stored_values(cohort, solution, sha256)
    if solution.kind == "label":
        values = solution.decode_labels(values)
    frame = pd.DataFrame(
        values.reshape(len(solution.ids), -1),
        index=solution.ids,
        columns=list(solution.target_columns),
    )
    return frame


def stored_values(
    cohort: Cohort | CohortConfig, solution: Solution, sha: str, rebuild: bool = False
) -> np.ndarray:
    """Encoded predictions of a stored file: the parsed cache, rebuilt from the file if missing
    (or, with `rebuild`, if it does not hold what the validator makes of the file)."""

    week = _config(cohort).week(solution.week)
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
    from cohort.scoring.validation import parse

    raw = raw_path(cohort, week, sha)
    if raw is None:
        raise NotFound(
            f"Stored file {sha[:12]} of week '{week.id}' is missing from {week_dir(cohort, week)}; restore it from a backup."
        )
    values = parse(raw.read_bytes(), raw.name, solution).values
    _write_once(cached, lambda fh: write_npy(fh, values))
    return values


def values_layout(solution: Solution) -> tuple[Any, tuple[int, ...]]:
    """The dtype and shape of a week's parsed predictions, as the validator produces them."""
    import numpy as np

    n, t = len(solution.ids), len(solution.target_columns)
    if solution.kind == "label":
        return np.dtype(np.int16 if len(solution.classes) < 32000 else np.int32), (
            (n,) if t == 1 else (n, t)
        )
    return np.dtype(np.float64), ((n,) if t == 1 and solution.kind != "proba" else (n, t))


def write_npy(fh: Any, values: np.ndarray) -> None:
    """Write `values` as np.save does (a .npy file, format 1.0), with the header of its
    layout built once instead of once per file."""
    import numpy as np

    if not values.flags.c_contiguous or values.dtype.hasobject:
        np.save(fh, values)
        return
    fh.write(_npy_header(values.dtype, values.shape))
    fh.write(values.data.cast("B"))


@lru_cache(maxsize=64)
def _npy_header(dtype: Any, shape: tuple[int, ...]) -> bytes:
    import io

    import numpy as np

    with io.BytesIO() as fh:
        np.lib.format.write_array_header_1_0(
            fh,
            {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape},
        )
        return fh.getvalue()


def read_stack(
    cohort: Cohort | CohortConfig, solution: Solution, shas: list[str]
) -> tuple[np.ndarray, dict[int, str]]:
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
    folder = str(parsed_path(cohort, _config(cohort).week(solution.week), "x", solution.key).parent)
    suffix = f"-{solution.key[:16]}.npy"
    errors: dict[int, str] = {}
    head = bytearray(len(header))
    rebuild = []
    for i, sha in enumerate(shas):
        try:
            fd = os.open(f"{folder}/{sha}{suffix}", os.O_RDONLY)
        except FileNotFoundError:
            fd = -1
        if fd >= 0:
            try:  # one system call reads the header and the row in place
                got = os.readv(fd, [head, view[i * row_bytes : (i + 1) * row_bytes]])
            finally:
                os.close(fd)
            if got == len(header) + row_bytes and head == header:
                continue
        rebuild.append(i)
    for i, got_values in _rebuilt(cohort, solution, [shas[i] for i in rebuild], rebuild):
        if isinstance(got_values, str):
            errors[i] = got_values
        else:
            stack[i] = got_values
    return stack, errors


def _rebuilt(
    cohort: Cohort | CohortConfig, solution: Solution, shas: list[str], rows: list[int]
) -> Iterator[tuple[int, Any]]:
    """Parse stored files whose parsed copy is missing or stale, on every core: pyarrow's
    reader releases the GIL, so threads parse side by side. Yields (row, values or reason).

    The parsed copies are written once every file is parsed, from this thread: written by
    the parsing threads, each of a copy's four system calls gave up the GIL and waited for
    it behind the other thread's Python, and writing 2,200 copies took 0.34 thread-seconds
    of a 0.89 s re-parse, where alone they take 0.035 s."""
    rebuild = _Rebuild(cohort, solution)

    def one(sha: str) -> Any:
        try:
            return rebuild.parse(sha)
        except (ValidationError, NotFound, ValueError) as exc:
            return str(exc)

    if len(shas) < 2:
        got = [one(sha) for sha in shas]
    else:
        from concurrent.futures import ThreadPoolExecutor

        workers = min(len(shas), os.cpu_count() or 2)
        # Files go to the threads in batches: each finished task wakes this thread, which
        # then takes the GIL from the workers; one wake per file cost a rescore ~10% of its CPU.
        size = max(1, min(REBUILD_BATCH, len(shas) // (4 * workers)))
        batches = [shas[i : i + size] for i in range(0, len(shas), size)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(lambda batch: [one(sha) for sha in batch], batches)
            got = list(itertools.chain.from_iterable(done))
    for sha, values in zip(shas, got, strict=True):
        if not isinstance(values, str):
            rebuild.cache(sha, values)
    yield from zip(rows, got, strict=True)


REBUILD_BATCH = 32  # files a thread re-parses per task


class _Rebuild:
    """`stored_values(..., rebuild=True)` for many files of one week, its paths worked out once.

    Each thread releases the GIL at every system call, and with every core parsing, each
    release hands the GIL to another thread and back (a futex wake and a context switch).
    So a file costs four calls to read (open, fstat, read, close) and four to cache (open,
    writev, close, rename), where stored_values made 25 (strace: stats, lseeks, ioctls, mkdir).
    The parsed copy goes to a temp file renamed over the missing or stale one, so a reader
    sees the old file or the whole new one; the same stored file always parses to the same
    bytes, so two writers racing to one name write the same file."""

    def __init__(self, cohort: Cohort | CohortConfig, solution: Solution) -> None:
        week = _config(cohort).week(solution.week)
        self.cohort, self.solution, self.week = cohort, solution, week
        self.folder = str(week_dir(cohort, week))
        self.parsed = str(parsed_path(cohort, week, "x", solution.key).parent)
        self.suffix = f"-{solution.key[:16]}.npy"
        self.prefix = f"{self.parsed}/{_temp_prefix()}"

    def parse(self, sha: str) -> np.ndarray:
        """The stored file's values (not cached yet: `cache` writes them)."""
        from cohort.scoring.validation import parse

        name, data = self._raw(sha)
        try:
            return parse(data, name, self.solution).values
        except ValidationError:
            _unlink_quietly(self._path(sha))  # a stale copy must not outlive the file's refusal
            raise

    def cache(self, sha: str, values: np.ndarray) -> None:
        """Write the file's parsed copy."""
        self._cache(self._path(sha), values)

    def _path(self, sha: str) -> str:
        return f"{self.parsed}/{sha}{self.suffix}"

    def _raw(self, sha: str) -> tuple[str, bytes]:
        """The stored file's name and bytes (most are plain CSV: one open finds them)."""
        name = f"{sha}.csv"
        try:
            fd = os.open(f"{self.folder}/{name}", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raw = raw_path(self.cohort, self.week, sha)
            if raw is None:
                raise NotFound(
                    f"Stored file {sha[:12]} of week '{self.week.id}' is missing from {self.folder}; restore it from a backup."
                ) from None
            return raw.name, raw.read_bytes()
        try:
            size = os.fstat(fd).st_size
            data = os.read(fd, size + 1)  # all of it in one read, unless it is larger than it says
            if len(data) > size:
                data += b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
        finally:
            os.close(fd)
        return name, data

    def _cache(self, path: str, values: np.ndarray) -> None:
        """Write the parsed copy as write_npy writes it, to a temp file renamed into place."""
        if not values.flags.c_contiguous or values.dtype.hasobject:  # not what parse returns
            Path(path).unlink(missing_ok=True)
            _write_once(Path(path), lambda fh: write_npy(fh, values))
            return
        header = _npy_header(values.dtype, values.shape)
        tmp, fd = self._temp(path)
        try:
            try:
                _write_all(fd, [memoryview(header), values.data.cast("B")])
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise disk_error(Path(path), exc) from None
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def _temp(self, path: str) -> tuple[str, int]:
        """A new temp file in the parsed folder, named as `sweep_temp_files` expects."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for attempt in itertools.count():
            tmp = f"{self.prefix}{next(_TEMP_NUMBERS)}"
            try:
                return tmp, os.open(tmp, flags, 0o600)  # the mode mkstemp gives
            except FileExistsError:  # left by a killed process that had this pid
                continue
            except FileNotFoundError as exc:  # the week's first parsed copy
                if attempt > 0:
                    raise disk_error(Path(path), exc) from None
            except OSError as exc:
                raise disk_error(Path(path), exc) from None
            try:
                os.makedirs(self.parsed, exist_ok=True)
            except OSError as exc:
                raise disk_error(Path(path), exc) from None
        raise AssertionError("unreachable")


# Temp file numbers: next() on a count is atomic under the GIL, so no two threads share one.
_TEMP_NUMBERS = itertools.count()


def _write_all(fd: int, parts: list[memoryview]) -> None:
    """Write every byte of `parts` (writev may write less, as on a nearly full disk)."""
    while parts:
        done = os.writev(fd, parts)
        while parts and done >= len(parts[0]):
            done -= len(parts[0])
            parts = parts[1:]
        if parts:
            parts = [parts[0][done:], *parts[1:]]


def _unlink_quietly(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


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


TEMP_PREFIX = ".tmp-"
LOCK_FILE = ".lock"


def _write_once(path: Path, write: Any) -> bool:
    """Write a file atomically unless it exists; True when this call created it.

    Two writers of the same content-addressed file may race: each writes its own temp
    file and renames it over the same name, so the file is always whole, never removed."""
    if path.exists():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix())
    except OSError as exc:
        raise disk_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise disk_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def disk_error(path: Path, exc: OSError) -> CohortError:
    """A failed write as one line naming the path and the fix (full disk, permissions)."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "the disk is full; free space there (or move submissions_dir) and submit again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "permission denied; let the user running cohort write there"
    else:
        fix = f"{exc.strerror or exc}; check the folder"
    return StorageError(f"Cannot write {path}: {fix}. Nothing was stored.")


@contextmanager
def files_guard(
    cohort: Cohort | CohortConfig, exclusive: bool = False, wait_s: float = 60.0, sweep: bool = True
) -> Iterator[None]:
    """Hold submissions/.lock while stored files are written or removed.

    Intakes and scoring runs share it; `cohort check --repair` takes it alone, so an
    orphan it removes can never be a file an intake is about to commit. The first shared
    holder that finds nobody else inside sweeps temp files left by a killed writer."""
    import fcntl
    import time

    folder = _config(cohort).submissions_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise disk_error(folder / LOCK_FILE, exc) from None
    try:
        alone = _wait_alone(fd, folder, exclusive, time.monotonic() + wait_s)
        if alone and not exclusive:
            if sweep:
                sweep_temp_files(folder)
            fcntl.flock(fd, fcntl.LOCK_SH)  # let other intakes in again
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process releases it too


def _wait_alone(fd: int, folder: Path, exclusive: bool, deadline: float) -> bool:
    """Take the lock alone if nobody holds it; else shared (or, exclusive, wait). True if alone."""
    import fcntl
    import time

    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if not exclusive:
                fcntl.flock(fd, fcntl.LOCK_SH)  # others are writing: no sweep this time
                return False
        if time.monotonic() > deadline:
            raise Conflict(
                f"Stored files under {folder} are busy (an intake or scoring run holds "
                f"{LOCK_FILE}); run the command again when it has finished."
            )
        time.sleep(0.05)


def _temp_prefix() -> str:
    # The writer's host and pid in the name tell a sweep whether the writer is gone.
    return f"{TEMP_PREFIX}{socket.gethostname()[:40]}-{os.getpid()}-"


def writer_gone(name: str, now: float, mtime: float) -> bool:
    """True when the temp file's writer no longer runs (another host's: after a day)."""
    host, _, rest = name[len(TEMP_PREFIX) :].rpartition("-")[0].rpartition("-")
    if host != socket.gethostname()[:40] or not rest.isdigit():
        return now - mtime > 86400
    try:
        os.kill(int(rest), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove temp files under `folder` whose writer was killed midway; returns them."""
    import time

    removed, now = [], time.time()
    for week in _subdirs(folder):  # submissions/<week>/ and submissions/<week>/parsed/
        for place in (week, *_subdirs(week)):
            with os.scandir(place) as entries:
                for entry in entries:
                    if not entry.name.startswith(TEMP_PREFIX):
                        continue
                    try:
                        stale = entry.is_file(follow_symlinks=False) and writer_gone(
                            entry.name, now, entry.stat(follow_symlinks=False).st_mtime
                        )
                    except FileNotFoundError:  # its writer just renamed it into place
                        continue
                    if stale:
                        Path(entry.path).unlink(missing_ok=True)
                        removed.append(Path(entry.path))
    return removed


def _subdirs(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]


def store_file(
    cohort: Cohort | CohortConfig, solution: Solution, data: bytes, file_name: str, parsed: Parsed
) -> tuple[str, list[Path]]:
    """Store the raw file and its parsed form by sha256; returns the sha and the paths created."""

    week = _config(cohort).week(solution.week)
    sha = hashlib.sha256(data).hexdigest()
    created = []
    if raw_path(cohort, week, sha) is None:
        raw = stored_path(cohort, week, sha, file_name)
        if _write_once(raw, lambda fh: fh.write(data)):
            created.append(raw)
    cached = parsed_path(cohort, week, sha, solution.key)
    if _write_once(cached, lambda fh: write_npy(fh, parsed.values)):
        created.append(cached)
    return sha, created
