"""Exporting the standings as CSV, Excel or Markdown for the organizers and the workshop screen.

Spreadsheet programs run a cell that starts with =, +, - or @ as a formula, so
every text cell that does is prefixed with a single quote (OWASP's advice for
CSV injection); a member named "=HYPERLINK(...)" stays plain text. The same is
done in .xlsx, where openpyxl would otherwise store such a string as a formula.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cohort import textsafe
from cohort.errors import NotFound, StorageError, ValidationError
from cohort.season.selection import cut_size
from cohort.season.standings import Standings, standings
from cohort.workspace import Cohort

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = (".csv", ".xlsx", ".md")


# Control characters are not allowed in .xlsx (openpyxl refuses the whole file) and break CSV rows.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A spreadsheet that splits cells on ';' would start a new cell after it: guard that one too.
_AFTER_SEMICOLON = re.compile(r";(\s*)(?=[=+\-@\t\r])")


def neutralize(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, made inert (also after a ';');
    control characters dropped; other values unchanged."""
    if not isinstance(value, str):
        return value
    value = _AFTER_SEMICOLON.sub(r";\1'", _CONTROL.sub("", value))
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def standings_frame(table: Standings, top: int) -> pd.DataFrame:
    """The export's columns: rank, handle, name, selected, total, components."""
    frame = table.frame().drop(columns=["tie_note"])
    frame.insert(3, "selected", ["yes" if r <= top else "" for r in frame["rank"]])
    return frame


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(object).map(neutralize)
    out.columns = [str(neutralize(c)) for c in out.columns]
    return out


def _markdown(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:g}"
        # Members' names are data: no links, images or emphasis from a name.
        return textsafe.markdown(v, limit=10_000)

    head = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside `path`, then rename: no half-written export is left."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_path(path: Path) -> str:
    """The export format of `path`, or an error naming the fix."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(f"Cannot export to '{path.name}'; name the file .csv, .xlsx or .md.")
    if not path.parent.is_dir():
        raise NotFound(f"Folder {path.parent} does not exist; create it or choose another path.")
    return suffix


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as .csv, .xlsx or .md (by suffix), formula injection neutralized."""
    suffix = check_path(path)
    safe = _safe(frame)
    writers: dict[str, Callable[[Path], None]] = {
        ".csv": lambda p: safe.to_csv(p, index=False, encoding="utf-8"),
        ".xlsx": lambda p: safe.to_excel(p, index=False, sheet_name="standings", engine="openpyxl"),
        ".md": lambda p: _write_text(p, _markdown(safe)),
    }
    try:
        _atomic(path, writers[suffix])
    except OSError as exc:
        raise StorageError(
            f"Cannot write {path} ({exc.strerror}); check the path and its permissions."
        ) from None


def export_standings(cohort: Cohort, path: Path, top: int | None = None) -> Path:
    """Write the current standings to `path` (.csv, .xlsx or .md); returns the path."""
    check_path(path)
    frame = standings_frame(standings(cohort), cut_size(cohort, top))
    write_frame(frame, path)
    return path
