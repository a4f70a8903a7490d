"""Every page of the app on the demo cohort: the live season (week 3 open), and the finished one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cohort.demo import demo_token
from cohort.scoring import boards
from cohort.season import selection
from cohort.sheets import roster as members
from cohort.workspace import Cohort
from tests.conftest import FINISHED_DEMO, LIVE_DEMO, copy_demo
from tests.test_app_helpers import app_test, texts
from tests.test_app_standings import drawn_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_builds, tmp_path_factory) -> Path:
    """The live demo: weeks 1-2 closed and revealed, week 3 open, week 4 not open yet."""
    return copy_demo(demo_builds, tmp_path_factory, LIVE_DEMO)[0]


@pytest.fixture(scope="module")
def finished(demo_builds, tmp_path_factory) -> Path:
    """The finished demo: the whole season in the past, the final project played."""
    return copy_demo(demo_builds, tmp_path_factory, FINISHED_DEMO)[0]


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


def test_member_page_shows_private_scores_of_closed_weeks_only(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, "member", query={"member": "quinn"})
    history = boards.member_history(Cohort.open(demo), "quinn", include_private=False)
    assert at.selectbox[0].value == "quinn"
    shown = at.dataframe[0].value
    assert shown["Id"].tolist() == history["submission_id"].tolist()
    weeks = history["week"].tolist()
    private = shown["Private"].tolist()
    assert {"01-pets", "03-sequences"} <= set(weeks)
    for week, value in zip(weeks, private, strict=True):
        # Closed weeks are revealed; the open week's private scores stay hidden.
        assert (value != value) == (week == "03-sequences"), (week, value)  # NaN: hidden
    no_emails_or_tokens(at)


def test_submit_accepts_a_file_for_the_open_week_with_the_demo_token(
    demo: Path, monkeypatch, tmp_path: Path
) -> None:
    cohort = Cohort.open(demo)
    handle, token = demo_token(cohort)
    at = app_test(demo, monkeypatch, "submit")
    at.text_input[0].input(token).run()
    assert at.success[0].value.startswith("Signed in as ")
    assert at.selectbox(key="submit_week").value.id == "03-sequences"  # the week open today

    def open_week_entries() -> int:
        history = boards.member_history(cohort, handle, include_private=False)
        return int((history["week"] == "03-sequences").sum())

    before = open_week_entries()
    sample = (demo / "data" / "03-sequences" / "sample_submission.csv").read_bytes()
    at.file_uploader[0].set_value(("predictions.csv", sample, "text/csv"))
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert open_week_entries() == before + 1
    no_emails_or_tokens(at, token)


def test_submit_offers_no_closed_week_of_the_demo(demo: Path, monkeypatch) -> None:
    # Late submissions (after the close) go through `cohort submit`; the page offers open weeks.
    token = members.issue_tokens(Cohort.open(demo).store, ["quinn"])["quinn"]
    at = app_test(demo, monkeypatch, "submit", query={"week": "1"})
    at.text_input[0].input(token).run()
    assert at.success[0].value == "Signed in as **Quinn (simulated)** (quinn)."
    offered = at.selectbox(key="submit_week")
    assert offered.value.id == "03-sequences" and len(offered.options) == 1
    no_emails_or_tokens(at, token)


def test_workshop_mode_shows_the_open_week_in_large_type(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, query={"mode": "workshop"})
    shown = texts(at)
    assert "Sequences: RNNs and forecasting" in shown  # week 3, open today
    assert "Refreshes every" in shown
    no_emails_or_tokens(at)


def test_workshop_mode_on_the_finished_demo_shows_the_final(finished: Path, monkeypatch) -> None:
    at = app_test(finished, monkeypatch, query={"mode": "workshop"})
    shown = texts(at)
    assert "Final project: LANL Earthquake Prediction" in shown  # the last week to have opened
    no_emails_or_tokens(at)


def test_organizer_page_refuses_a_wrong_password(demo: Path, monkeypatch) -> None:
    at = app_test(demo, monkeypatch, "organizer")
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert len(at.error) == 1 and "password" in at.error[0].value.lower()
    assert not at.radio


def test_organizer_week_at_a_glance_lists_every_member_of_the_open_week(
    demo: Path, monkeypatch
) -> None:
    from cohort.season.status import week_status
    from tests.test_app_organizer import section, signed_in

    at = section(signed_in(demo, monkeypatch), "Week at a glance")
    assert at.selectbox(key="glance_week").value.id == "03-sequences"
    status = week_status(Cohort.open(demo), "03-sequences")
    shown = at.dataframe[0].value
    assert shown["Member"].tolist() == status.members["handle"].tolist()
    assert (shown["Notebook"] == "yes").sum() == (status.members["notebook"] != "").sum()
    assert any("members have a file" in c.value for c in at.caption)
    no_emails_or_tokens(at)
