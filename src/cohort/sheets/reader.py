"""The CSV sheets organizers hand us: rosters, attendance sheets, Google Forms exports.

One reader, one timestamp parser and one member matcher, so every import treats
encodings, Forms timestamps and "which member is this respondent?" the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

from cohort.errors import ConfigError
from cohort.store.members import Member

# Google Forms writes its locale's format; the responses download adds a "GMT+1" suffix.
# Month-first formats come before day-first ones, so only an impossible month falls through.
TIMESTAMP_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y/%m/%d %I:%M:%S %p",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
GMT_SUFFIX = re.compile(r"\s*(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$")


def read_text(path: Path, missing_fix: str, encoding_fix: str) -> str:
    """A sheet's text (a UTF-8 BOM, as Excel writes it, is dropped); errors say how to fix it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path} not found; {missing_fix}.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory; pass the CSV file.") from None
    except PermissionError:
        raise ConfigError(
            f"{path} cannot be read (permission denied); check its permissions."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; {encoding_fix}.") from None


def parse_timestamp(text: str, tz: tzinfo) -> datetime:
    """A Forms or spreadsheet timestamp as aware UTC; a naive one is read in the cohort's `tz`."""
    text = text.strip()
    offset: tzinfo | None = None
    suffix = GMT_SUFFIX.search(text)
    if suffix:
        sign, hours, minutes = suffix.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        offset = timezone(-delta if sign == "-" else delta)
        text = text[: suffix.start()]
    parsed = _parse_naive(text)
    if parsed is None:
        raise ValueError(f"timestamp {text!r} is not a date and time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=offset or tz)
    return parsed.astimezone(UTC)


def _parse_naive(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


class MemberMatcher:
    """Finds members by handle, email, name or Kaggle username, in any case."""

    def __init__(self, members: Iterable[Member]) -> None:
        self.index: dict[str, set[str]] = {}
        for m in members:
            for key in (m.handle, m.email, m.name, m.kaggle_username):
                if key.strip():
                    self.index.setdefault(key.strip().casefold(), set()).add(m.handle)

    def match(self, values: Iterable[str]) -> tuple[str | None, set[str]]:
        """The first value (most precise first) naming exactly one member; else None and every candidate."""
        candidates: set[str] = set()
        for value in values:
            found = self.index.get(value.strip().casefold(), set())
            if len(found) == 1:
                return next(iter(found)), found
            candidates |= found
        return None, candidates
