"""Workshop mode: only the current week's board, large, refreshing; the live challenge's board."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cohort.scoring import boards, intake
from cohort.season import challenges
from cohort.workspace import Cohort, utcnow
from tests.test_app_helpers import app_test, copy_cohort, populated_source, write_cohort


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def screen(at) -> str:  # noqa: ANN001
    return next(
        str(h.proto.body) for h in at.get("html") if "class='workshop'" in str(h.proto.body)
    )


def handles(body: str) -> list[str]:
    return re.findall(r"<small>\((m\d\d)\)</small>", body)


def test_workshop_mode_shows_only_the_workshop_screen(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, query={"mode": "workshop"})
    assert not at.selectbox and not at.tabs and not at.text_input  # no other page's widgets
    assert "<h1>Week 2 · Beta</h1>" in screen(at)
    assert at.caption[-1].value == "Refreshes every 5 s · Test Cohort"


def test_the_current_week_board_is_the_public_one_before_the_reveal(
    populated: Path, monkeypatch
) -> None:
    at = app_test(populated, monkeypatch, query={"mode": "workshop", "week": "1", "private": "1"})
    body = screen(at)
    assert "public leaderboard" in body
    board = boards.leaderboard(Cohort.open(populated), "02-beta")
    assert handles(body) == [r.handle for r in board.rows]


def test_a_new_cohort_shows_an_empty_board(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, query={"mode": "workshop"})
    assert "No scored submissions yet." in screen(at)


def test_an_open_challenge_ranks_only_submissions_inside_its_window(
    populated: Path, monkeypatch
) -> None:
    c = Cohort.open(populated)
    challenge = challenges.open_window(c, "02-beta", 20, "ada", now=utcnow() - timedelta(minutes=5))
    solution = pd.read_csv(populated / "data" / "02-beta" / "solution.csv")
    perfect = solution[["id", "label"]].to_csv(index=False).encode()
    intake.submit_bytes(c, "m02", "02-beta", perfect, "p.csv", source="app")
    at = app_test(populated, monkeypatch, query={"mode": "workshop"})
    body = screen(at)
    assert "Live challenge · Beta" in body
    assert re.search(r"1[0-5]:\d\d left", body)  # 20 minutes opened 5 minutes ago
    assert handles(body) == ["m02"]
    assert challenges.board(c, challenge)["score"].tolist() == [pytest.approx(1.0)]


def test_a_challenge_without_submissions_invites_them(populated: Path, monkeypatch) -> None:
    challenges.open_window(Cohort.open(populated), "02-beta", 20, "ada")
    at = app_test(populated, monkeypatch, "workshop")
    assert "No submissions yet. Submit from the Submit page!" in screen(at)


def test_member_text_is_escaped(populated: Path, monkeypatch) -> None:
    from cohort.sheets import roster as members

    roster = populated / "members.csv"
    roster.write_text(roster.read_text().replace("Member 12", "<b>Member 12</b>"))
    members.import_roster(Cohort.open(populated).store, roster)
    body = screen(app_test(populated, monkeypatch, "workshop"))
    assert "&lt;b&gt;Member 12&lt;/b&gt;" in body
    assert "<b>Member 12</b>" not in body
