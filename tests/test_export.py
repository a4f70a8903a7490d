"""Exports: CSV, Excel and Markdown of the standings; spreadsheet formula injection neutralized."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cohort.cli import app
from cohort.errors import CohortError
from cohort.sheets.export import export_standings, neutralize, write_frame
from cohort.sheets.roster import import_roster
from cohort.workspace import Cohort

from .conftest import write_roster
from .test_standings import build_season


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Ann Lee", "Ann Lee"),
        ("a=b", "a=b"),
        (-2.5, -2.5),  # numbers are data, not formulas
    ],
)
def test_neutralize(value: object, expected: object) -> None:
    assert neutralize(value) == expected


@pytest.fixture
def season(make_cohort, tmp_path: Path) -> Cohort:
    cohort = build_season(make_cohort, tmp_path)
    # Members whose names a spreadsheet would run as formulas.
    write_roster(
        cohort.root,
        [
            ("ann", "=1+2", "ann@example.org", "ann"),  # keeps her own week-2 kernel
            ("bob", "@SUM(A1)", "bob@example.org", ""),
            ("cy", "Cy | Young", "cy@example.org", ""),
            ("dee", "Dee Dee", "dee@example.org", ""),
        ],
    )
    import_roster(cohort.store, cohort.root / "members.csv")
    return cohort


def test_csv_export_neutralizes_formulas(season: Cohort, tmp_path: Path) -> None:
    path = export_standings(season, tmp_path / "standings.csv", top=2)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["rank"], r["handle"], r["name"], r["selected"], r["total"]) for r in rows] == [
        ("1", "ann", "'=1+2", "yes", "25.0"),
        ("2", "bob", "'@SUM(A1)", "yes", "8.5"),
        ("3", "cy", "Cy | Young", "", "8.5"),
        ("4", "dee", "Dee Dee", "", "3.5"),
    ]
    assert list(rows[0])[:8] == [
        "rank",
        "handle",
        "name",
        "selected",
        "01-a",
        "02-b",
        "performance",
        "attended",
    ]
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())


def test_xlsx_export_stores_names_as_text_not_formulas(season: Cohort, tmp_path: Path) -> None:
    path = export_standings(season, tmp_path / "standings.xlsx")
    sheet = openpyxl.load_workbook(path).active
    names = [(c.value, c.data_type) for c in sheet["C"][1:]]
    assert names == [("'=1+2", "s"), ("'@SUM(A1)", "s"), ("Cy | Young", "s"), ("Dee Dee", "s")]
    assert sheet["A1"].value == "rank" and sheet["J2"].value is not None


def test_markdown_export_escapes_pipes(season: Cohort, tmp_path: Path) -> None:
    text = export_standings(season, tmp_path / "standings.md").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("| rank | handle | name | selected | 01-a | 02-b | performance |")
    assert lines[1].startswith("|---|---|")
    assert (
        "| 3 | cy | Cy \\| Young | yes | 7.5 | 0 | 7.5 |" in text
    )  # final_size 8: all four selected


def test_an_unknown_format_or_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(
        CohortError,
        match=r"^Cannot export to 'standings\.pdf'; name the file \.csv, \.xlsx or \.md\.$",
    ):
        write_frame(frame, tmp_path / "standings.pdf")
    with pytest.raises(
        CohortError, match=r"^Folder .*nowhere does not exist; create it or choose another path\.$"
    ):
        write_frame(frame, tmp_path / "nowhere" / "standings.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("top", ["0", "-1"])
def test_export_refuses_a_top_below_one_as_select_does(
    season: Cohort, tmp_path: Path, top: str
) -> None:
    out = tmp_path / "standings.csv"
    for command in (["export", str(out)], ["select"]):
        result = CliRunner().invoke(app, ["--root", str(season.root), *command, "--top", top])
        assert result.exit_code == 1
        assert (
            result.stderr
            == f"Error: Cannot select the top {top}; pass --top with a positive number.\n"
        )
    assert not out.exists()
