"""Every page of the app on the demo cohort: a whole simulated season, all weeks revealed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cohort.demo import run_demo
from cohort.scoring import boards
from cohort.season import selection
from cohort.sheets import roster as members
from cohort.workspace import Cohort
from tests.test_app_helpers import app_test, texts
from tests.test_app_standings import drawn_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("app-demo") / "demo-cohort"
    run_demo(directory, members=24, seed=7, echo=lambda _line: None).store.dispose()
    return directory


def no_emails_or_tokens(at, token: str = "") -> None:  # noqa: ANN001
    shown = texts(at)
    assert "@demo.invalid" not in shown
    assert not token or token not in shown


def test_leaderboard_shows_the_revealed_private_board_with_its_shake_up(
    demo: Path, monkeypatch
) -> None:
    at = app_test(demo, monkeypatch, query={"week": "1"})
    board = boards.leaderboard(Cohort.open(demo), "1", private=True)
    shown = texts(at)
    assert board.revealed
    for row in board.rows[:3]:
        assert row.handle in shown
    assert len(at.get("vega_lite_chart")) >= 1  # the shake-up chart
    no_emails_or_tokens(at)


def test_standings_draw_the_cut_under_the_eight_selected(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, "standings")
    above, _below = drawn_table(at).split("<tr class='cut'>")
    chosen = re.findall(r"<tr class='selected'>.*?\((\w+)\)</", above)
    assert chosen == [s.handle for s in selection.select(Cohort.open(demo)).selected]
    assert len(chosen) == 8
    assert "Statistical tie at the cut" in texts(at)  # the demo's cut is close (chen vs yusuf)
    no_emails_or_tokens(at)


def test_member_page_shows_history_with_revealed_private_scores(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, "member", query={"member": "quinn"})
    history = boards.member_history(Cohort.open(demo), "quinn", include_private=False)
    assert at.selectbox[0].value == "quinn"
    shown = at.dataframe[0].value
    assert shown["Id"].tolist() == history["submission_id"].tolist()
    assert "–" not in set(shown["Private"])  # every demo week has closed, so private scores show
    no_emails_or_tokens(at)


def test_submit_signs_in_with_a_token_and_refuses_a_closed_week(demo: Path, monkeypatch) -> None:
    token = members.issue_tokens(Cohort.open(demo).store, ["quinn"])["quinn"]
    at = app_test(demo, monkeypatch, "submit")
    at.text_input[0].input(token).run()
    assert at.success[0].value == "Signed in as **Quinn (simulated)** (quinn)."
    before = len(boards.member_history(Cohort.open(demo), "quinn", include_private=False))
    at.text_input[1].input("https://www.kaggle.com/code/quinn-kg/late-entry")
    at.button[0].click().run()
    assert any("late submissions are not accepted" in e.value for e in at.error)
    assert len(boards.member_history(Cohort.open(demo), "quinn", include_private=False)) == before
    no_emails_or_tokens(at, token)


def test_workshop_mode_shows_the_latest_week_in_large_type(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, query={"mode": "workshop"})
    shown = texts(at)
    assert "Final project: LANL Earthquake Prediction" in shown  # the last week to have opened
    assert "Refreshes every" in shown
    no_emails_or_tokens(at)


def test_organizer_page_refuses_a_wrong_password(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, "organizer")
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert len(at.error) == 1 and "password" in at.error[0].value.lower()
    assert not at.tabs
