"""Organizer-supplied sheets: one reader, one timestamp parser, one member matcher."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cohort.errors import ConfigError
from cohort.sheets.reader import MemberMatcher, parse_timestamp, read_text
from cohort.store.members import Member

ANN = Member(1, "ann", "Alex Smith", "ann@example.org", "ann-kg", False)
BO = Member(2, "bo", "Alex Smith", "bo@example.org", "", False)


def test_a_unique_identifier_wins_over_an_ambiguous_one() -> None:
    matcher = MemberMatcher([ANN, BO])
    assert matcher.match(["Alex Smith", "BO@example.org"]) == ("bo", {"bo"})


def test_an_ambiguous_respondent_is_not_guessed() -> None:
    assert MemberMatcher([ANN, BO]).match(["alex smith"]) == (None, {"ann", "bo"})


def test_an_unknown_respondent_has_no_candidates() -> None:
    assert MemberMatcher([ANN, BO]).match(["zed", ""]) == (None, set())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027/01/12 10:31:05 AM GMT+1", datetime(2027, 1, 12, 9, 31, 5, tzinfo=UTC)),
        ("2027/01/12 10:31:05 PM GMT-5:30", datetime(2027, 1, 13, 4, 1, 5, tzinfo=UTC)),
        ("1/14/2027 19:02:11", datetime(2027, 1, 14, 18, 2, 11, tzinfo=UTC)),
        ("1/14/2027 7:02:11 PM", datetime(2027, 1, 14, 18, 2, 11, tzinfo=UTC)),
        ("14/01/2027 19:02:11", datetime(2027, 1, 14, 18, 2, 11, tzinfo=UTC)),
    ],
)
def test_forms_timestamps_are_read_in_the_cohort_timezone_unless_they_say_otherwise(
    text: str, expected: datetime
) -> None:
    assert parse_timestamp(text, ZoneInfo("Europe/Amsterdam")) == expected


def test_read_text_drops_the_bom_and_names_the_fix(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_bytes(b"\xef\xbb\xbfhandle\nann\n")
    assert read_text(sheet, "fix a", "fix b") == "handle\nann\n"
    sheet.write_bytes(b"handle\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=rf"^{sheet} is not UTF-8 text; fix b\.$"):
        read_text(sheet, "fix a", "fix b")
    with pytest.raises(ConfigError, match=r"missing\.csv not found; fix a\.$"):
        read_text(tmp_path / "missing.csv", "fix a", "fix b")


def test_read_text_says_a_directory_is_not_a_sheet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        read_text(tmp_path, "fix a", "fix b")
    assert str(err.value) == f"{tmp_path} is a directory; pass the CSV file."


def test_read_text_says_an_unreadable_sheet_needs_permissions(tmp_path: Path, monkeypatch) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("handle\nann\n")

    def denied(self: Path, encoding: str | None = None) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError) as err:
        read_text(sheet, "fix a", "fix b")
    assert str(err.value) == f"{sheet} cannot be read (permission denied); check its permissions."
