"""Text from members is data, never markup: spreadsheets, Markdown, and the app's messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cohort import textsafe
from cohort.sheets.export import neutralize, write_frame
from tests.test_app_helpers import app_test, write_cohort


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Ann;=1+1", "Ann;'=1+1"),  # a ';'-splitting spreadsheet starts a cell after the ';'
        (";=1+1", ";'=1+1"),
        ("Bo; -2+3", "Bo; '-2+3"),
        ("bell\x07and\x1bescape", "bellandescape"),
        ("Ann Lee", "Ann Lee"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_made_inert(name: str, safe: str) -> None:
    assert neutralize(name) == safe


def test_control_characters_do_not_break_the_xlsx_export(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    frame = pd.DataFrame({"handle": ["ann", "bo"], "name": ["A\x00nn\x1b[31m", ";=1+1"]})
    write_frame(frame, tmp_path / "s.xlsx")
    sheet = load_workbook(tmp_path / "s.xlsx").active
    assert [c.value for c in sheet["B"]] == ["name", "Ann[31m", ";'=1+1"]
    assert all(c.data_type == "s" for c in sheet["B"])


def test_names_in_the_markdown_export_are_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["[win](http://evil.example)", "![img](http://x/y.png)"]})
    write_frame(frame, tmp_path / "s.md")
    text = (tmp_path / "s.md").read_text()
    assert "\\[win\\]\\(http://evil.example\\)" in text and "\\!\\[img\\]" in text


def test_markdown_escape_is_bounded_and_on_one_line() -> None:
    assert textsafe.markdown("a\nb " + "x" * 500, limit=10) == "a b xxxxx…"


def test_a_week_query_parameter_is_shown_as_text_not_markdown(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "c")
    hostile = "[click](http://evil.example) ![x](http://evil.example/t.png)"
    at = app_test(root, monkeypatch, query={"week": hostile})
    warnings = [w.value for w in at.warning]
    assert warnings == [
        "No week '\\[click\\]\\(http://evil.example\\) \\!\\[x\\]\\(http:…' "
        "in this cohort; showing the current week."
    ]
