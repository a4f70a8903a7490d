"""The one submission validator, used by the CLI, the app upload and the Kaggle collector.

It turns raw bytes (CSV, .csv.gz, or a .zip holding one CSV) into predictions aligned
with the solution's ids, or raises ValidationError with a Kaggle-grade message that
names the problem and the fix. It never writes anything.

The CSV is read in one pass by pyarrow's reader with the columns' types (ids as strings,
predictions as float64); only a file that fails is read again as text, to say exactly
which value is wrong. Every input costs a bounded amount: a file is refused, with its own
message, past the week's size limit, past what a file of one row per test id can unpack
to, past the rows or fields such a file can hold, or past PARSE_SECONDS. Every library
exception is translated here; nothing but ValidationError leaves `parse`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cohort.errors import ValidationError
from cohort.scoring.solution import numpy_of

if TYPE_CHECKING:
    import pandas as pd

    from cohort.scoring.solution import Solution

MB = 1024 * 1024
# A compressed upload may expand; beyond this factor of the size limit it is refused.
EXPANSION = 10
SHOWN = 5
CLIP = 40  # characters of a member's value quoted in a message, so an error line stays short
# Rows a file may hold beyond the test set before it is refused unread (duplicates and
# unknown ids are still named one by one below that).
ROW_SLACK = 100
EXTRA_FIELDS = 16  # fields a row may hold beyond the header's (trailing commas)
ID_BYTES, VALUE_BYTES = 256, 64  # the longest id and prediction a row is expected to hold
ZIP_ENTRIES = 16
PARSE_SECONDS = 10.0
BOM = b"\xef\xbb\xbf"
Bytes = bytes | bytearray


@dataclass(frozen=True)
class Limits:
    """What one submission file of a week may cost; every bound has its own message."""

    file_bytes: int  # the week's max_file_mb, on the file as uploaded
    unpacked_bytes: int  # after .gz/.zip: EXPANSION x file_bytes, or rows x line_bytes if less
    rows: int  # data lines
    fields: int  # values in one row
    line_bytes: int  # the longest line a valid file needs (ids and values of usual length)


def limit_bytes(solution: Solution) -> int:
    """The week's size limit for a submission file, in bytes."""
    return int(solution.competition.max_file_mb * MB)


def limits(solution: Solution) -> Limits:
    """The bounds for a week's submission files, derived from its solution and settings."""
    n, width = len(solution.ids), 1 + len(solution.target_columns)
    rows = n + max(ROW_SLACK, n // 10)
    line = ID_BYTES + VALUE_BYTES * width
    size = limit_bytes(solution)
    return Limits(size, min(size * EXPANSION, rows * line), rows, width + EXTRA_FIELDS, line)


@dataclass(frozen=True)
class Parsed:
    """A valid submission: `values` encoded for scoring, aligned with the solution's ids."""

    values: np.ndarray
    solution: Solution = field(repr=False)

    @property
    def rows(self) -> int:
        """How many rows the file had (one per test id)."""
        return len(self.solution.ids)

    @property
    def columns(self) -> tuple[str, ...]:
        """The file's columns: the id column, then the targets."""
        return (self.solution.id_column, *self.solution.target_columns)

    @property
    def frame(self) -> pd.DataFrame:
        """The predictions indexed by id, in solution order (labels decoded); imports pandas."""
        import pandas as pd

        sol = self.solution
        values = sol.decode_labels(self.values) if sol.kind == "label" else self.values
        frame = pd.DataFrame(
            values.reshape(len(sol.ids), -1),
            index=pd.Index(sol.ids, name=sol.id_column),
            columns=list(sol.target_columns),
        )
        return frame


# --- reading a file --------------------------------------------------------------------------


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing one over `limit` before reading it, and anything but a
    regular file (a FIFO or a device such as /dev/zero has no size to check)."""
    try:
        fd = _open(path)
    except FileNotFoundError:
        raise ValidationError(f"Submission file {path} not found; check the path.") from None
    except PermissionError:
        raise ValidationError(_unreadable(path)) from None
    except OSError as exc:
        raise ValidationError(
            f"Submission file {path} cannot be opened ({exc.strerror or exc}); check the path."
        ) from None
    try:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise ValidationError(
                f"Submission file {path} is a directory; pass the predictions CSV file."
            )
        if not stat.S_ISREG(mode.st_mode):
            raise ValidationError(
                f"Submission file {path} is not a regular file (a pipe, socket or device); "
                "save the predictions to a CSV file and pass that."
            )
        if mode.st_size > limit:
            raise ValidationError(_too_big(mode.st_size, limit))
        data = _read_fd(fd, limit + 1)
    except PermissionError:
        raise ValidationError(_unreadable(path)) from None
    except OSError as exc:
        raise ValidationError(
            f"Submission file {path} cannot be read ({exc.strerror or exc}); check the file."
        ) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read it
        raise ValidationError(_too_big(len(data), limit))
    return data


def _open(path: Path) -> int:
    # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def _read_fd(fd: int, most: int) -> bytes:
    with os.fdopen(os.dup(fd), "rb") as fh:
        return fh.read(most)


def _unreadable(path: Path) -> str:
    return f"Submission file {path} cannot be read (permission denied); check its permissions."


def _human(n: float) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.1f} KB"


def _too_big(size: int, limit: int) -> str:
    return (
        f"Submission file is {_human(size)}, over the {_human(limit)} limit; "
        "round predictions to fewer digits or compress it as .csv.gz."
    )


def _unpacks_too_big(lim: Limits) -> str:
    why = (
        f"{EXPANSION}x the size limit"
        if lim.unpacked_bytes == lim.file_bytes * EXPANSION
        else f"what {lim.rows:,} rows of up to {lim.line_bytes} bytes need"
    )
    return (
        f"Submission unpacks to more than {_human(lim.unpacked_bytes)} ({why}); "
        "submit a smaller file with one row per test id."
    )


def _clip(text: str) -> str:
    """A member's value as quoted in a message: printable and short."""
    text = "".join(c if c.isprintable() else "?" for c in text[: CLIP + 1])
    return text if len(text) <= CLIP else text[: CLIP - 3] + "..."


def _not_csv(why: str) -> str:
    return (
        f"Submission is not a CSV file ({why}); save it as CSV (UTF-8), optionally .csv.gz or .zip."
    )


def _check_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise ValidationError(
            f"Submission took more than {PARSE_SECONDS:g} s to read; "
            "submit a plain CSV file with one row per test id."
        )


def unpack(data: Bytes, file_name: str, lim: Limits, deadline: float) -> Bytes:
    """CSV bytes from raw bytes: unpacks .gz/.zip (streamed, never past the limit), drops
    a UTF-8 BOM, and refuses empty, binary and non-UTF-8 files."""
    if len(data) > lim.file_bytes:
        raise ValidationError(_too_big(len(data), lim.file_bytes))
    name = file_name.lower()
    if name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = _gunzip(data, lim, deadline)
    elif name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        data = _unzip(data, lim, deadline)
    elif len(data) > lim.unpacked_bytes:
        raise ValidationError(
            f"Submission file is {_human(len(data))}, more than {lim.rows:,} rows of up to "
            f"{lim.line_bytes} bytes need; write one row per test id with plain values."
        )
    if data[:3] == BOM:
        data = data[3:]
    if not data or data.isspace():
        raise ValidationError("Submission file is empty; write the header and one row per test id.")
    if b"\x00" in data[:4096]:
        raise ValidationError(_not_csv("it looks like a binary file"))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(_not_csv("it is not UTF-8 text")) from None
    return data


def _gunzip(data: Bytes, lim: Limits, deadline: float) -> bytearray:
    """Decompress every gzip member, stopping as soon as the output passes the cap."""
    cap, out, rest = lim.unpacked_bytes, bytearray(), memoryview(data)
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        while True:
            chunk = inflate.decompress(rest, cap + 1 - len(out))
            out += chunk
            if len(out) > cap:
                raise ValidationError(_unpacks_too_big(lim))
            _check_time(deadline)
            if inflate.eof:
                rest = memoryview(inflate.unused_data)
                if not bytes(rest[:64]).strip(b"\x00") and not bytes(rest).strip(b"\x00"):
                    return out  # done (trailing zero padding is allowed, as gzip allows it)
                inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # the next member
                continue
            rest = memoryview(inflate.unconsumed_tail)
            if not rest and not chunk:
                raise ValidationError(_not_csv("the .gz archive is damaged"))
    except zlib.error:
        raise ValidationError(_not_csv("the .gz archive is damaged")) from None


def _unzip(data: Bytes, lim: Limits, deadline: float) -> bytes:
    """The one CSV of a .zip, read in chunks and refused past the cap."""
    entries = _zip_entries(data)
    if entries > ZIP_ENTRIES:
        raise ValidationError(f"The .zip holds {entries:,} files; put exactly one CSV file in it.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [
                i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX")
            ]
            csvs = [i for i in names if i.filename.lower().endswith(".csv")]
            if len(csvs) != 1 or len(names) != 1:
                raise ValidationError(
                    f"The .zip holds {len(csvs)} CSV files and {len(names) - len(csvs)} other files; "
                    "put exactly one CSV file in it."
                )
            info = csvs[0]
            if info.flag_bits & 0x1:
                raise ValidationError(
                    "The .zip is password-protected; zip the CSV without a password, or submit it as .csv.gz."
                )
            if info.compress_type not in (
                zipfile.ZIP_STORED,
                zipfile.ZIP_DEFLATED,
                zipfile.ZIP_BZIP2,
                zipfile.ZIP_LZMA,
            ):
                raise ValidationError(
                    f"The .zip uses compression method {info.compress_type}, which cohort cannot read; "
                    "zip it with the standard (deflate) method, or submit it as .csv.gz."
                )
            if info.file_size > lim.unpacked_bytes:
                raise ValidationError(_unpacks_too_big(lim))
            return _read_member(zf, info, lim, deadline)
    except ValidationError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ):
        # lzma.LZMAError and bz2's errors are OSError/ValueError subclasses; a bad CRC is BadZipFile.
        raise ValidationError(_not_csv("the .zip archive is damaged")) from None


def _zip_entries(data: Bytes) -> int:
    """The entry count its end-of-central-directory record claims (0 if none is found),
    read before zipfile builds one object per entry."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    return int.from_bytes(data[at + 10 : at + 12], "little") if at >= 0 else 0


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, lim: Limits, deadline: float) -> bytes:
    cap, parts, size = lim.unpacked_bytes, [], 0
    with zf.open(info) as fh:
        while chunk := fh.read(min(MB, cap + 1 - size)):
            parts.append(chunk)
            size += len(chunk)
            if size > cap:
                raise ValidationError(_unpacks_too_big(lim))
            _check_time(deadline)
    return b"".join(parts)


# --- the CSV ---------------------------------------------------------------------------------


def parse(data: Bytes, file_name: str, solution: Solution) -> Parsed:
    """Validate a submission against the solution; the predictions aligned to its ids."""
    lim = limits(solution)
    deadline = time.monotonic() + PARSE_SECONDS
    data = unpack(data, file_name, lim, deadline)
    if _newlines(data) > lim.rows + 1:  # the header, then at most lim.rows rows
        raise ValidationError(
            f"Submission has more than {lim.rows:,} rows; the test set has "
            f"{len(solution.ids):,} ids: write one row per id."
        )
    header, width, body = _layout(data, solution, lim)
    table = _read(data, body, header, width, solution, typed=True)
    _check_time(deadline)
    values = None if table is None else _typed_values(table, solution)
    if values is None:  # a value did not convert: read it as text to say which one
        table = _read(data, body, header, width, solution, typed=False)
    assert table is not None
    if width > len(header):
        _check_extras(table, header, width)
    pos = _check_ids(table.column(solution.id_column), solution)
    in_order = pos is solution.positions  # the file lists the ids in the solution's order
    order = pos if in_order else np.empty(len(pos), dtype=np.intp)
    if not in_order:
        order[pos] = np.arange(len(pos))
    if values is None:  # order + 2: each row's file line, in solution order (header is line 1)
        values = _text_values(table, order, order + 2, solution)
    elif not in_order:
        values = values[order]
    _check_values(values, order, solution)
    _check_time(deadline)
    if values.ndim == 2 and values.shape[1] == 1 and solution.kind != "proba":
        values = values[:, 0]
    return Parsed(np.ascontiguousarray(values), solution)


def _newlines(data: Bytes) -> int:
    """How many \\n the data holds (numpy counts ~4x faster than bytes.count, which holds
    the GIL while the other threads of a re-parse wait for it)."""
    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == 10))


def _line_end(data: Bytes, start: int, most: int) -> int:
    """Where the line starting at `start` ends (its \\n or \\r), looking at most `most` bytes."""
    window = data[start : start + most + 2]
    ends = [i for i in (window.find(b"\n"), window.find(b"\r")) if i >= 0]
    return start + min(ends) if ends else -1


def _layout(data: Bytes, solution: Solution, lim: Limits) -> tuple[list[str], int, int]:
    """The header's columns, the number of fields each row has, and where the rows start."""
    end = _line_end(data, 0, lim.line_bytes)
    if end < 0 and len(data) > lim.line_bytes:
        raise ValidationError(
            f"The first line is longer than {lim.line_bytes} bytes; it must be the header "
            f"'{_want(solution)}'."
        )
    first = bytes(data[: end if end >= 0 else len(data)]).decode("utf-8")
    if first.count(",") + 1 > lim.fields:
        raise ValidationError(
            f"The header has {first.count(',') + 1:,} columns; the header must be '{_want(solution)}'."
        )
    raw = _fields(first)
    if raw is None:
        raise ValidationError(_not_csv("its first line is not a CSV header"))
    header = [h.strip() for h in raw]
    while header and not header[-1]:  # a trailing comma, as on every row some tools write
        header.pop()
    _check_header(header, solution)
    body = -1 if end < 0 else end + (2 if data[end : end + 2] == b"\r\n" else 1)
    return header, _row_width(data, body, header, lim), body


def _fields(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None


def _want(solution: Solution) -> str:
    return ",".join([solution.id_column, *solution.target_columns])


def _check_header(header: list[str], solution: Solution) -> None:
    expected = [solution.id_column, *solution.target_columns]
    want = ",".join(expected)
    if header and header[0] in solution.first_ids:
        raise ValidationError(
            f"The file has no header row; add the line '{want}' as its first line."
        )
    for col in expected:
        if col not in header:
            raise ValidationError(
                f"Required column '{col}' could not be found; the header must be '{want}'."
            )
    for col in header:
        if header.count(col) > 1:
            raise ValidationError(
                f"Column '{_clip(col)}' appears {header.count(col)} times in the header; the header must be '{want}'."
            )
        if col not in expected:
            raise ValidationError(
                f"Unexpected column '{_clip(col)}'; the header must be exactly '{want}' (remove the extra column)."
            )


def _row_width(data: Bytes, body: int, header: list[str], lim: Limits) -> int:
    """How many fields each row has: the header's, or the first row's when it only adds
    empty trailing fields (trailing commas)."""
    start = body
    while 0 <= start < len(data) and data[start : start + 1] in (b"\n", b"\r"):
        start += 1  # blank lines are skipped, as the reader skips them
    end = _line_end(data, start, lim.line_bytes) if 0 <= start < len(data) else -1
    if start < 0 or start >= len(data) or (end < 0 and len(data) - start > lim.line_bytes):
        return len(header)
    line = bytes(data[start : end if end >= 0 else len(data)]).decode("utf-8")
    if line.count(",") + 1 > lim.fields:
        return len(header)
    fields = _fields(line) or []
    if len(fields) > len(header) and not any(f.strip() for f in fields[len(header) :]):
        return len(fields)
    return len(header)


class _Invalid:
    """Remembers the first row whose field count differs from the header's."""

    def __init__(self) -> None:
        self.row: tuple[int, int] | None = None

    def __call__(self, row: Any) -> str:
        if self.row is None:
            self.row = (row.number or 0, row.actual_columns)
        return "error"


def _read(
    data: Bytes, body: int, header: list[str], width: int, solution: Solution, typed: bool
) -> Any:
    """The rows as a pyarrow Table (typed: targets as float64), or None when typed reading
    met a value that is not a number."""
    import pyarrow as pa

    names = header + [f"\0extra{i}" for i in range(width - len(header))]
    numeric = typed and solution.kind != "label"
    if body < 0 or body >= len(data):  # only the header
        return _empty_table(names, solution, numeric)
    convert = _convert_options(tuple(names), solution.target_columns, numeric)
    try:  # on pyarrow's threads: with every core re-parsing, ~25% less wall than its serial reader
        return _read_csv(data, names, convert, None)
    except (pa.ArrowException, ValueError, OverflowError, MemoryError):
        pass  # read again serially: only that reader knows a bad row's line, and it words the errors
    invalid = _Invalid()
    try:
        return _read_csv(data, names, convert, invalid)
    except (pa.ArrowException, ValueError, OverflowError, MemoryError) as exc:
        if invalid.row is not None:
            line, saw = invalid.row
            raise ValidationError(_wrong_width(line, saw, len(header), width)) from None
        if numeric and "conversion error" in str(exc):
            return None
        detail = _clip(" ".join(str(exc).split()))
        raise ValidationError(_not_csv(f"the CSV reader could not read it: {detail}")) from None


def _read_csv(data: Bytes, names: list[str], convert: Any, invalid: _Invalid | None) -> Any:
    """pyarrow's reader over the rows, in one block: serial when `invalid` is to see the bad
    rows (the threaded reader does not number them)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    return pa_csv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pa_csv.ReadOptions(
            column_names=names,
            skip_rows_after_names=0,
            skip_rows=1,
            use_threads=invalid is None,
            block_size=min(max(len(data) + 1, 1 << 16), 1 << 30),
        ),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=invalid),
        convert_options=convert,
    )


@lru_cache(maxsize=64)
def _convert_options(names: tuple[str, ...], targets: tuple[str, ...], numeric: bool) -> Any:
    """The reader's column types for one header layout, built once (re-parsing a season
    reads thousands of files of the same layout)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    return pa_csv.ConvertOptions(
        column_types={n: pa.float64() if numeric and n in targets else pa.string() for n in names},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        # `unpack` has decoded the whole file as UTF-8, and a field cut from valid UTF-8 at
        # commas, quotes and line ends (ASCII, never inside a character) is valid UTF-8.
        check_utf8=False,
    )


def _empty_table(names: list[str], solution: Solution, numeric: bool) -> Any:
    """The table of a file with a header and no rows."""
    import pyarrow as pa

    targets = solution.target_columns
    fields = [pa.field(n, pa.float64() if numeric and n in targets else pa.string()) for n in names]
    return pa.schema(fields).empty_table()


def _wrong_width(line: int, saw: int, want: int, width: int) -> str:
    values = "value" if saw == 1 else "values"
    if saw == want:  # the other rows carry trailing commas
        return (
            f"Line {line} has {saw:,} {values} but the first row has {width}; "
            "write the same number of values (and trailing commas) on every line."
        )
    return f"Line {line} has {saw:,} {values} but the header has {want} columns; write one value per column."


def _check_extras(table: Any, header: list[str], width: int) -> None:
    """Fields past the header's (trailing commas) must be empty."""
    from cohort.scoring import arrow as pc

    for name in table.column_names[len(header) :]:
        filled = np.flatnonzero(numpy_of(pc.binary_length(table.column(name)), np.int32) > 0)
        if len(filled):
            raise ValidationError(_wrong_width(int(filled[0]) + 2, width, len(header), width))


def _one_array(column: Any) -> Any:
    """A column as one array: its only chunk as it is (combine_chunks copies even one)."""
    if not hasattr(column, "num_chunks"):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _quoted(values: list[str]) -> str:
    shown = ", ".join(f"'{_clip(v)}'" for v in values[:SHOWN])
    return shown + (f" (and {len(values) - SHOWN} more)" if len(values) > SHOWN else "")


def _check_ids(raw: Any, solution: Solution) -> np.ndarray:
    """Positions of the rows' ids in the solution; raises for duplicates, unknown or missing ids.

    Most files list the ids in the sample submission's order: one comparison of the whole
    column settles those. Others are looked up in the solution's id table (built once)."""
    from cohort.scoring import arrow as pc

    ids = _one_array(raw)
    n = len(solution.ids)
    if len(ids) == n and ids.equals(solution.id_array):
        return solution.positions
    ids = pc.utf8_trim_whitespace(ids)
    if len(ids) == n and ids.equals(solution.id_array):
        return solution.positions
    texts = ids.to_pylist()
    if len(set(texts)) != len(texts):
        seen: set[str] = set()
        dup: dict[str, None] = {}
        for i in texts:
            if i in seen:
                dup[i] = None
            seen.add(i)
        raise ValidationError(
            f"Duplicate ids: {_quoted(list(dup))}; each id must appear exactly once."
        )
    where = solution.id_positions
    pos = np.fromiter((where.get(t, -1) for t in texts), dtype=np.intp, count=len(texts))
    if (pos < 0).any():
        unknown = [texts[i] for i in np.flatnonzero(pos < 0)]
        raise ValidationError(
            f"Unknown ids not in the test set: {_quoted(unknown)}; use the ids of sample_submission.csv."
        )
    if len(texts) != n:
        present = np.zeros(n, dtype=bool)
        present[pos] = True
        missing = solution.ids[~present].tolist()
        raise ValidationError(
            f"Submission must have {n} rows, found {len(texts)}; missing ids: {_quoted(missing)}."
        )
    return pos


def _typed_values(table: Any, solution: Solution) -> np.ndarray | None:
    """Targets in file order from a typed read (numbers, or label codes); None when a number
    is not finite (read again as text to name it)."""
    from cohort.scoring import arrow as pc

    cols = [_one_array(table.column(c)) for c in solution.target_columns]
    if solution.kind == "label":
        dtype = np.int16 if len(solution.classes) < 32000 else np.int32
        out: list[np.ndarray] = []
        for col in cols:
            found = pc.index_in(col, options=solution.class_lookup)
            if not found.null_count:  # every label exactly as written in the classes
                out.append(numpy_of(found, np.int32).astype(dtype))
                continue
            encoded = pc.dictionary_encode(col)  # labels repeat: strip each distinct one once
            code_of = solution.class_codes
            known = [code_of.get(t.strip(), -1) for t in encoded.dictionary.to_pylist()]
            if -1 in known:
                return None
            out.append(np.asarray(known, dtype=dtype)[numpy_of(encoded.indices, np.int32)])
        return _stack(out)
    numbers = _stack([numpy_of(c, np.float64) for c in cols])
    return numbers if np.isfinite(numbers).all() else None


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    """Columns side by side; one column as a view (most weeks have one target: no copy)."""
    return columns[0].reshape(-1, 1) if len(columns) == 1 else np.column_stack(columns)


NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE
)
NA_TEXT = ("", "nan", "na", "n/a", "null", "none")


def _text_values(
    table: Any, order: np.ndarray, lines: np.ndarray, solution: Solution
) -> np.ndarray:
    """Targets in solution order from a text read; raises naming the first bad value."""
    out = []
    for name in solution.target_columns:
        raw = [t.strip() for t in np.asarray(table.column(name).to_pylist(), dtype=object)[order]]
        if solution.kind == "label":
            out.append(_labels(raw, name, lines, solution))
        else:
            out.append(_numbers(raw, name, lines))
    return np.column_stack(out)


def _numbers(raw: list[str], name: str, lines: np.ndarray) -> np.ndarray:
    values = np.array([float(t) if NUMBER.fullmatch(t) else np.nan for t in raw], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if not len(bad):  # the reader refused something this check accepts
        raise ValidationError(
            f"Column '{name}' holds a value that is not a plain number; every prediction must be a finite number."
        )
    i = bad[0]
    text = raw[i]
    if text.lower() in NA_TEXT:
        problem = f"an empty or NaN value at line {lines[i]}"
    elif np.isinf(values[i]):
        problem = f"an infinite value '{_clip(text)}' at line {lines[i]}"
    else:
        problem = f"a non-numeric value '{_clip(text)}' at line {lines[i]}"
    more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
    raise ValidationError(
        f"Column '{name}' has {problem}{more}; every prediction must be a finite number."
    )


def _labels(raw: list[str], name: str, lines: np.ndarray, solution: Solution) -> np.ndarray:
    classes = set(solution.classes)
    bad = [i for i, t in enumerate(raw) if t not in classes]
    if not bad:
        raise ValidationError(
            f"Column '{name}' could not be read as labels; use the training labels exactly."
        )
    i = bad[0]
    more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
    raise ValidationError(
        f"Column '{name}' has label '{_clip(raw[i])}' at line {lines[i]}{more}, not one of the "
        f"{len(solution.classes)} classes ({_quoted(list(solution.classes))}); use the training labels exactly."
    )


def _check_values(values: np.ndarray, order: np.ndarray, solution: Solution) -> None:
    """Sign rules (probabilities, RMSLE) and probability rows that sum to zero (`order`:
    each value's row in the file, for the line a message names)."""
    if solution.kind == "label":
        return
    floor = {"proba": "probabilities"}.get(solution.kind)
    if floor or solution.metric == "rmsle":
        for j, name in enumerate(solution.target_columns):
            neg = np.flatnonzero(values[:, j] < 0)
            if len(neg):
                what = floor or "RMSLE predictions"
                raise ValidationError(
                    f"Column '{name}' has a negative value {values[neg[0], j]:g} at line {order[neg[0]] + 2}; {what} must be >= 0."
                )
    if solution.kind == "proba":
        zero = np.flatnonzero(values.sum(axis=1) <= 0)
        if len(zero):
            i = zero[0]
            raise ValidationError(
                f"Row for id '{_clip(str(solution.ids[i]))}' at line {order[i] + 2} has probabilities summing to 0; give each row some probability mass."
            )


def check_file(source: Any, week_ref: str, path: Path) -> Parsed:
    """Check a file as `cohort submit` would, storing nothing (`source`: a Cohort or its
    config; no database is opened)."""
    from cohort.scoring.solution import load_solution

    solution = load_solution(source, week_ref)
    return parse(read_limited(Path(path), limit_bytes(solution)), Path(path).name, solution)
