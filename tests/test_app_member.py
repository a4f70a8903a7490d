"""The Member page: history with scores (private only once revealed), chart, contributions, notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort.scoring import boards
from cohort.workspace import Cohort
from tests.test_app_helpers import app_test, copy_cohort, populated_source, texts, write_cohort


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    source, tokens = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort"), tokens


def test_a_cohort_without_members_says_how_to_add_them(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, "member")
    assert [i.value for i in at.info] == [
        "No members yet: the organizer imports them with `cohort members import members.csv`."
    ]


def test_a_member_without_submissions_sees_empty_sections(tmp_path: Path, monkeypatch) -> None:
    from cohort.sheets import roster as members

    root = write_cohort(tmp_path / "fresh")
    members.import_roster(Cohort.open(root).store, root / "members.csv")
    at = app_test(root, monkeypatch, "member")
    assert [i.value for i in at.info] == ["No submissions yet."]
    assert "No contributions recorded yet." in [c.value for c in at.caption]


def test_the_member_parameter_picks_the_member(populated, monkeypatch) -> None:
    root, _ = populated
    at = app_test(root, monkeypatch, "member", query={"member": "m09"})
    assert at.selectbox[0].value == "m09"
    history = boards.member_history(Cohort.open(root), "m09", include_private=False)
    shown = at.dataframe[0].value
    assert shown["Id"].tolist() == history["submission_id"].tolist()
    assert shown["Public"].tolist() == [f"{v:.5g}" for v in history["public_score"]]


def test_private_scores_show_only_for_revealed_weeks(populated, monkeypatch) -> None:
    root, _ = populated
    at = app_test(root, monkeypatch, "member", query={"member": "m09", "private": "1"})
    shown = at.dataframe[0].value
    assert set(shown[shown["Week"] == "02-beta"]["Private"]) == {"–"}
    assert "–" not in set(shown[shown["Week"] == "01-alpha"]["Private"])
    secret = boards.member_history(Cohort.open(root), "m09", include_private=True)
    hidden = secret[secret["week"] == "02-beta"]["private_score"]
    for value in hidden:
        assert f"{value:.5g}" not in set(shown["Private"])


def test_the_score_chart_contributions_and_notebooks_are_shown(populated, monkeypatch) -> None:
    root, _ = populated
    at = app_test(root, monkeypatch, "member", query={"member": "m01"})
    assert len(at.get("vega_lite_chart")) == 1
    contributions = at.dataframe[1].value
    assert ("01-alpha", "attended") in set(
        zip(contributions["Week"], contributions["Kind"], strict=True)
    )
    notebooks = at.dataframe[2].value
    assert sorted(notebooks["Notebook"]) == [
        "https://www.kaggle.com/code/m01/w0",
        "https://www.kaggle.com/code/m01/w1",
    ]


def test_no_email_or_token_reaches_the_page(populated, monkeypatch) -> None:
    root, tokens = populated
    for handle in ("m01", "m12"):
        shown = texts(app_test(root, monkeypatch, "member", query={"member": handle}))
        assert "@example.org" not in shown
        assert not any(token in shown for token in tokens.values())
