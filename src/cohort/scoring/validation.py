"""The one submission validator, used by the CLI, the app upload and the Kaggle collector.

It turns raw bytes (CSV, .csv.gz, or a .zip holding one CSV) into predictions aligned
with the solution's ids, or raises ValidationError with a Kaggle-grade message that
names the problem and the fix. It never writes anything.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cohort.errors import ValidationError

if TYPE_CHECKING:
    from cohort.scoring.solution import Solution

MB = 1024 * 1024
# A compressed upload may expand; beyond this factor of the size limit it is refused.
EXPANSION = 10
SHOWN = 5


@dataclass(frozen=True)
class Parsed:
    """A valid submission: `frame` indexed by id in solution order, `values` encoded for scoring."""

    frame: pd.DataFrame
    values: np.ndarray


def limit_bytes(solution: Solution) -> int:
    """The week's size limit for a submission file, in bytes."""
    return int(solution.competition.max_file_mb * MB)


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing one over `limit` before reading it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValidationError(f"Submission file {path} not found; check the path.") from None
    if path.is_dir():
        raise ValidationError(
            f"Submission file {path} is a directory; pass the predictions CSV file."
        )
    if size > limit:
        raise ValidationError(_too_big(size, limit))
    try:
        return path.read_bytes()
    except PermissionError:
        raise ValidationError(
            f"Submission file {path} cannot be read (permission denied); check its permissions."
        ) from None


def _human(n: float) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.1f} KB"


def _too_big(size: int, limit: int) -> str:
    return (
        f"Submission file is {_human(size)}, over the {_human(limit)} limit; "
        "round predictions to fewer digits or compress it as .csv.gz."
    )


def _unpacks_too_big(cap: int) -> str:
    return (
        f"Submission unpacks to more than {_human(cap)} ({EXPANSION}x the size limit); "
        "submit a smaller file with one row per test id."
    )


def decode(data: bytes, file_name: str, limit: int) -> str:
    """CSV text from raw bytes: unpacks .gz/.zip, accepts a UTF-8 BOM and CRLF endings."""
    if len(data) > limit:
        raise ValidationError(_too_big(len(data), limit))
    name = file_name.lower()
    if name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = _gunzip(data, limit * EXPANSION)
    elif name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        data = _unzip(data, limit * EXPANSION)
    if not data.strip():
        raise ValidationError("Submission file is empty; write the header and one row per test id.")
    if b"\x00" in data[:4096]:
        raise ValidationError(_not_csv("it looks like a binary file"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_not_csv("it is not UTF-8 text")) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_csv(why: str) -> str:
    return (
        f"Submission is not a CSV file ({why}); save it as CSV (UTF-8), optionally .csv.gz or .zip."
    )


def _gunzip(data: bytes, cap: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(cap + 1)
    except (OSError, EOFError, zlib.error):
        raise ValidationError(_not_csv("the .gz archive is damaged")) from None
    if len(out) > cap:
        raise ValidationError(_unpacks_too_big(cap))
    return out


def _unzip(data: bytes, cap: int) -> bytes:
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
            if csvs[0].file_size > cap:
                raise ValidationError(_unpacks_too_big(cap))
            return zf.read(csvs[0])
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ValidationError(_not_csv("the .zip archive is damaged")) from None


def parse(data: bytes, file_name: str, solution: Solution) -> Parsed:
    """Validate a submission against the solution; the predictions aligned to its ids."""
    text = decode(data, file_name, limit_bytes(solution))
    header = _header(text, solution)
    frame = _read(text, header)
    ids = _check_ids(frame[solution.id_column], solution)
    frame = frame.set_index(solution.id_column).iloc[np.argsort(ids)]
    frame.index.name = solution.id_column
    lines = np.argsort(ids) + 2  # file line of each row, in solution order (header is line 1)
    values = _values(frame, lines, solution)
    return Parsed(frame, values)


def _header(text: str, solution: Solution) -> list[str]:
    first = text.split("\n", 1)[0]
    try:
        header = [h.strip() for h in next(csv.reader([first]))]
    except (csv.Error, StopIteration):
        raise ValidationError(_not_csv("its first line is not a CSV header")) from None
    while header and not header[-1]:  # a trailing comma, as on every row some tools write
        header.pop()
    expected = [solution.id_column, *solution.target_columns]
    want = ",".join(expected)
    if header and header[0] in set(solution.ids[:1000]):
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
                f"Column '{col}' appears {header.count(col)} times in the header; the header must be '{want}'."
            )
        if col not in expected:
            raise ValidationError(
                f"Unexpected column '{col}'; the header must be exactly '{want}' (remove the extra column)."
            )
    return header


ROW_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _read(text: str, header: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            skiprows=1,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=range(len(header)), dtype=str)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        match = ROW_RE.search(str(exc))
        if match:
            raise ValidationError(
                _row_width(int(match.group(2)), int(match.group(3)), len(header))
            ) from None
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ValidationError(_not_csv(f"pandas could not parse it: {detail}")) from None
    extra = frame.iloc[:, len(header) :]
    if extra.shape[1]:
        filled = np.flatnonzero((extra != "").any(axis=1).to_numpy())
        if len(filled):  # trailing commas alone (empty extra fields) are harmless
            raise ValidationError(_row_width(int(filled[0]) + 2, frame.shape[1], len(header)))
        frame = frame.iloc[:, : len(header)]
    frame.columns = header
    return frame


def _row_width(line: int, saw: int, want: int) -> str:
    return f"Line {line} has {saw} values but the header has {want} columns; write one value per column."


def _quoted(values: list[str]) -> str:
    shown = ", ".join(f"'{v}'" for v in values[:SHOWN])
    return shown + (f" (and {len(values) - SHOWN} more)" if len(values) > SHOWN else "")


def _check_ids(raw: pd.Series, solution: Solution) -> np.ndarray:
    """Positions of the rows' ids in the solution; raises for duplicates, unknown or missing ids."""
    ids = raw.astype(str).str.strip()
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise ValidationError(f"Duplicate ids: {_quoted(dup)}; each id must appear exactly once.")
    pos = solution.ids.get_indexer(pd.Index(ids))
    unknown = ids[pos < 0].tolist()
    if unknown:
        raise ValidationError(
            f"Unknown ids not in the test set: {_quoted(unknown)}; use the ids of sample_submission.csv."
        )
    n = len(solution.ids)
    if len(ids) != n:
        missing = solution.ids[~np.isin(np.arange(n), pos)].tolist()
        raise ValidationError(
            f"Submission must have {n} rows, found {len(ids)}; missing ids: {_quoted(missing)}."
        )
    return pos


def _values(frame: pd.DataFrame, lines: np.ndarray, solution: Solution) -> np.ndarray:
    cols = list(solution.target_columns)
    if solution.kind == "label":
        out = np.column_stack([_labels(frame[c], c, lines, solution) for c in cols])
    else:
        out = np.column_stack([_numbers(frame[c], c, lines, solution) for c in cols])
        frame[cols] = out
        if solution.kind == "proba":
            _check_rows(out, frame.index, lines)
    return out[:, 0] if out.shape[1] == 1 and solution.kind != "proba" else out


def _numbers(col: pd.Series, name: str, lines: np.ndarray, solution: Solution) -> np.ndarray:
    raw = col.astype(str).str.strip()
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        i = bad[0]
        text = raw.iloc[i]
        if text.lower() in ("", "nan", "na", "n/a", "null", "none"):
            problem = f"an empty or NaN value at line {lines[i]}"
        elif np.isinf(values[i]):
            problem = f"an infinite value '{text}' at line {lines[i]}"
        else:
            problem = f"a non-numeric value '{text}' at line {lines[i]}"
        more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
        raise ValidationError(
            f"Column '{name}' has {problem}{more}; every prediction must be a finite number."
        )
    floor = {"proba": "probabilities", "score": None, "regression": None}.get(solution.kind)
    if floor or solution.metric == "rmsle":
        neg = np.flatnonzero(values < 0)
        if len(neg):
            what = floor or "RMSLE predictions"
            raise ValidationError(
                f"Column '{name}' has a negative value {values[neg[0]]:g} at line {lines[neg[0]]}; {what} must be >= 0."
            )
    return values


def _check_rows(probs: np.ndarray, ids: pd.Index, lines: np.ndarray) -> None:
    zero = np.flatnonzero(probs.sum(axis=1) <= 0)
    if len(zero):
        i = zero[0]
        raise ValidationError(
            f"Row for id '{ids[i]}' at line {lines[i]} has probabilities summing to 0; give each row some probability mass."
        )


def _labels(col: pd.Series, name: str, lines: np.ndarray, solution: Solution) -> np.ndarray:
    raw = col.astype(str).str.strip()
    codes = pd.Index(solution.classes).get_indexer(pd.Index(raw))
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        i = bad[0]
        more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
        raise ValidationError(
            f"Column '{name}' has label '{raw.iloc[i]}' at line {lines[i]}{more}, not one of the "
            f"{len(solution.classes)} classes ({_quoted(list(solution.classes))}); use the training labels exactly."
        )
    return codes.astype(np.int16 if len(solution.classes) < 32000 else np.int32)
