"""The Season standings page: the cut line, the components of each total, tie flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cohort.season import selection as season_selection
from cohort.season import standings
from cohort.workspace import Cohort
from tests.test_app_helpers import app_test, copy_cohort, populated_source, texts, write_cohort


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def drawn_table(at) -> str:  # noqa: ANN001
    return next(
        str(h.proto.body) for h in at.get("html") if "class='standings'" in str(h.proto.body)
    )


def test_a_new_cohort_has_no_standings_yet(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, "standings")
    assert [i.value for i in at.info] == [
        "No standings yet: they appear once submissions are scored or contributions recorded."
    ]


def test_the_top_eight_sit_above_the_drawn_cut(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, "standings")
    selection = season_selection.select(Cohort.open(populated))
    table = drawn_table(at)
    above, below = table.split("<tr class='cut'>")
    assert "cut line: the top 8 above go to the final project" in below
    chosen = re.findall(r"<tr class='selected'>.*?\((m\d\d)\)", above)
    assert chosen == [s.handle for s in selection.selected]
    assert len(chosen) == 8
    assert "class='selected'" not in below
    assert at.subheader[0].value == "Top 8 go to the final project"


def test_each_total_is_shown_with_its_components(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, "standings")
    result = standings.standings(Cohort.open(populated))
    full = at.dataframe[0].value
    assert full["Handle"].tolist() == [r.handle for r in result.rows]
    assert full["Member"].tolist() == [r.name for r in result.rows]
    assert full["Total"].tolist() == [round(r.total, 2) for r in result.rows]
    for column, label in (("01-alpha", "Week 1"), ("02-beta", "Week 2"), ("attended", "Attended")):
        assert full[label].tolist() == [round(r.components[column], 2) for r in result.rows]
    assert "<th class='num comp'>Week 1</th>" in drawn_table(at)
    assert "Updated " in texts(at)
    assert len(at.get("vega_lite_chart")) == 1


def test_statistical_ties_at_the_cut_are_flagged(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, "standings")
    flagged = [t for t in season_selection.select(Cohort.open(populated)).ties if t.flagged]
    assert flagged, "the fixture cohort is built to have a close cut"
    warning = at.warning[0].value
    assert warning.startswith("**Statistical tie at the cut**")
    for tie in flagged:
        assert f"{tie.above} stays ahead of {tie.below} in only {tie.probability:.0%}" in warning
    assert "⚠ tie" in drawn_table(at)


def test_a_frozen_selection_is_announced(populated: Path, monkeypatch) -> None:
    season_selection.freeze(Cohort.open(populated), "ada")
    at = app_test(populated, monkeypatch, "standings")
    assert re.fullmatch(
        r"Frozen \d{4}-\d\d-\d\d \d\d:\d\d CES?T by ada; the live standings below "
        r"may have moved since\.",
        at.info[0].value,
    )


def test_unrevealed_weeks_are_named(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, "standings")
    assert "Not yet revealed, so counted on their public scores: Week 2 · Beta" in texts(at)
    assert "@example.org" not in texts(at)
