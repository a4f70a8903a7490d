"""Google Forms timestamps and column detection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cohort.errors import ConfigError
from cohort.sheets.forms import import_form
from cohort.sheets.reader import parse_timestamp
from cohort.workspace import Cohort

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027/01/12 10:31:05 AM GMT+1", datetime(2027, 1, 12, 9, 31, 5, tzinfo=UTC)),
        ("2027/01/12 10:31:05 PM GMT-5:30", datetime(2027, 1, 13, 4, 1, 5, tzinfo=UTC)),
        ("1/12/2027 10:31:05", datetime(2027, 1, 12, 9, 31, 5, tzinfo=UTC)),
        ("2027-01-12 10:31:05", datetime(2027, 1, 12, 9, 31, 5, tzinfo=UTC)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    assert parse_timestamp(text, AMS) == expected


def test_bad_timestamp() -> None:
    with pytest.raises(ValueError, match=r"^timestamp 'soon' is not a date and time$"):
        parse_timestamp("soon", AMS)


def test_export_without_timestamp_column(make_cohort, tmp_path: Path) -> None:
    form = tmp_path / "f.csv"
    form.write_text("Email,Link\nann@example.org,https://kaggle.com/code/a/b\n")
    with pytest.raises(ConfigError) as info:
        import_form(Cohort.open(make_cohort()), form, "1")
    assert str(info.value) == (
        f"{form}: required column 'Timestamp' could not be found; use the Google Forms "
        "responses export (Timestamp, Email Address, questions)."
    )


def test_export_without_link_column(make_cohort, tmp_path: Path) -> None:
    form = tmp_path / "f.csv"
    form.write_text("Timestamp,Email Address,Comments\n2027/01/12 10:31:05,ann@example.org,fun\n")
    with pytest.raises(ConfigError) as info:
        import_form(Cohort.open(make_cohort()), form, "1")
    assert (
        str(info.value)
        == f"{form}: no notebook link column; the form needs a question like 'Notebook link'."
    )
