"""The Member page: history with scores (private only once revealed), chart, contributions, notebooks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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
    assert shown["Public"].tolist() == history["public_score"].tolist()


def test_private_scores_show_only_for_revealed_weeks(populated, monkeypatch) -> None:
    root, _ = populated
    at = app_test(root, monkeypatch, "member", query={"member": "m09", "private": "1"})
    shown = at.dataframe[0].value
    assert shown[shown["Week"] == "Week 2 · Beta"]["Private"].isna().all()
    assert shown[shown["Week"] == "Week 1 · Alpha"]["Private"].notna().all()
    secret = boards.member_history(Cohort.open(root), "m09", include_private=True)
    hidden = secret[secret["week"] == "02-beta"]["private_score"]
    for value in hidden:
        assert value not in set(shown["Private"].dropna())


def test_the_score_chart_contributions_and_notebooks_are_shown(populated, monkeypatch) -> None:
    root, _ = populated
    at = app_test(root, monkeypatch, "member", query={"member": "m01"})
    assert len(at.get("vega_lite_chart")) == 1
    contributions = at.dataframe[1].value
    assert ("Week 1 · Alpha", "Attended") in set(
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


def test_the_baseline_line_comes_from_the_score_stored_at_prepare(populated, monkeypatch) -> None:
    import json

    root, _ = populated
    c = Cohort.open(root)
    from cohort.weeks import prepare

    data = c.config.week_data_dir(c.config.week("02-beta"))
    sha = prepare._current_sha(c, c.config.week("02-beta"))
    (data / prepare.BASELINE_SCORE).write_text(
        json.dumps({"solution_sha256": sha, "public_score": 0.61234, "private_score": 0.7})
    )
    at = app_test(root, monkeypatch, "member", query={"member": "m03"})
    assert any(
        "baseline model, public score 0.6123 (Accuracy, higher is better)" in c.value
        for c in at.caption
    )
    # A stale record (another solution) draws no line, and nothing is trained on the page.
    monkeypatch.setattr(prepare, "baseline_predictions", lambda *a: pytest.fail("trained"))
    (data / prepare.BASELINE_SCORE).write_text(json.dumps({"solution_sha256": "x"}))
    import streamlit as st

    st.cache_data.clear()
    at = app_test(root, monkeypatch, "member", query={"member": "m03"})
    assert not any("baseline model" in c.value for c in at.caption)


def test_prepare_scores_the_baseline_once_and_stores_it(tmp_path: Path) -> None:
    from cohort.template import init_cohort
    from cohort.weeks import prepare

    init_cohort(tmp_path / "c", "Baseline")
    c = Cohort.open(tmp_path / "c")
    prepare.prepare(c, "2")
    record = prepare.stored_baseline(c, "2")
    assert record is not None and 0.5 < record["public_score"] <= 1.0
    # The demo's submissions reuse the stored predictions instead of training again.
    stored = prepare.baseline_predictions(c, "2")
    assert len(stored) == len(pd.read_csv(c.config.solution_path(c.config.week("2"))))
