"""Workshop mode: the projector screen (board, movement, countdowns, challenges, standings)."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cohort.scoring import boards, intake
from cohort.season import challenges
from cohort.workspace import Cohort, utcnow
from tests.conftest import REPO
from tests.test_app_helpers import app_test, copy_cohort, populated_source, write_cohort

sys.path.insert(0, str(REPO / "leaderboard_app"))
import screen as ws  # noqa: E402


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def screen(at) -> str:  # noqa: ANN001
    return next(str(h.proto.body) for h in at.get("html") if "class='ws'" in str(h.proto.body))


def handles(body: str) -> list[str]:
    return re.findall(r"<small>\((m\d\d)\)</small>", body)


def perfect(root: Path, week: str = "02-beta") -> bytes:
    solution = pd.read_csv(root / "data" / week / "solution.csv")
    return solution[["id", "label"]].to_csv(index=False).encode()


def test_workshop_mode_shows_only_the_workshop_screen(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, query={"mode": "workshop"})
    assert not at.selectbox and not at.tabs and not at.text_input  # no other page's widgets
    body = screen(at)
    assert "<h1>Week 2 · Beta</h1>" in body
    assert "Accuracy, higher is better" in body
    assert re.search(r"closes in \d+ d \d+ h \(\w{3} \d\d \w{3} \d\d:\d\d CET\)", body)
    assert at.caption[-1].value.startswith("Refreshes every 5 s · updated ")
    assert at.caption[-1].value.endswith(" CET · Test Cohort")


def test_the_current_week_board_is_the_public_one_before_the_reveal(
    populated: Path, monkeypatch
) -> None:
    at = app_test(populated, monkeypatch, query={"mode": "workshop", "week": "1", "private": "1"})
    body = screen(at)
    assert "Public leaderboard" in body and "Private" not in body
    board = boards.leaderboard(Cohort.open(populated), "02-beta")
    assert handles(body) == [r.handle for r in board.rows]
    # Scores are shown with the metric's four decimals.
    assert f"<td class='num'>{board.rows[0].score:.4f}</td>" in body


def test_the_strip_shows_the_latest_entries(populated: Path, monkeypatch) -> None:
    body = screen(app_test(populated, monkeypatch, query={"mode": "workshop"}))
    strip = body[body.index("class='strip'") :]
    newest = boards.latest_submissions(Cohort.open(populated), "02-beta", limit=8)
    assert [n for n in re.findall(r"CE[S]?T (Member \d\d)", strip)] == newest["name"].tolist()


def test_a_new_best_entry_is_highlighted_with_its_rank_arrow(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, query={"mode": "workshop"})
    assert "class='fresh'" not in screen(at) and "class='up'" not in screen(at)
    c = Cohort.open(populated)
    before = {r.handle: r.rank for r in boards.leaderboard(c, "02-beta").rows}
    intake.submit_bytes(c, "m01", "02-beta", perfect(populated), "p.csv", source="app")
    at.run()
    body = screen(at)
    fresh = re.findall(r"<tr class='fresh'[^>]*>(.*?)</tr>", body)
    assert len(fresh) == 1 and "(m01)" in fresh[0]
    after = {r.handle: r.rank for r in boards.leaderboard(c, "02-beta").rows}
    assert f"▲ {before['m01'] - after['m01']}" in fresh[0]
    assert "class='down'" in body  # whoever m01 passed went down a place


def test_after_the_reveal_the_projector_shows_the_shake_up(populated: Path, monkeypatch) -> None:
    c = Cohort.open(populated)
    boards.reveal(c, "02-beta", "ada", close_now=True)  # the week is open: revealing closes it
    body = screen(app_test(populated, monkeypatch, query={"mode": "workshop"}))
    private = boards.leaderboard(c, "02-beta", private=True)
    assert "Private leaderboard (final)" in body
    assert handles(body) == [r.handle for r in private.rows]
    assert "Biggest movers:" in body or "No one moved" in body
    moved = [r for r in private.rows if r.rank_change]
    if moved:
        assert "class='up'" in body and "class='down'" in body


@pytest.mark.parametrize("n", [1, 12, 13, 24, 40, 48, 49, 120, 1000])
def test_every_row_fits_the_projector_and_appears_on_some_page(n: int) -> None:
    lay = ws.layout(n)
    assert lay.rows_per_column * lay.columns * lay.pages >= n
    assert lay.row_px * (lay.rows_per_column + 1) <= ws.BOARD_PX
    assert lay.row_px >= ws.ROW_PX_MIN and lay.rows_per_column <= 24
    rows = [{"rank": i + 1, "handle": f"h{i}", "name": f"N{i}", "score": 0.5} for i in range(n)]
    seen = [r["handle"] for p in range(lay.pages) for col in ws.page_of(rows, lay, p) for r in col]
    assert seen == [r["handle"] for r in rows]


def test_forty_members_are_two_columns_on_one_page() -> None:
    lay = ws.layout(40)
    assert (lay.columns, lay.rows_per_column, lay.pages) == (2, 20, 1)


def test_an_open_challenge_ranks_only_submissions_inside_its_window(
    populated: Path, monkeypatch
) -> None:
    c = Cohort.open(populated)
    challenge = challenges.open_window(c, "02-beta", 20, "ada", now=utcnow() - timedelta(minutes=5))
    intake.submit_bytes(c, "m02", "02-beta", perfect(populated), "p.csv", source="app")
    monkeypatch.setenv("COHORT_PUBLIC_URL", "https://cohort.example.org")
    at = app_test(populated, monkeypatch, query={"mode": "workshop"})
    body = screen(at)
    assert "Live challenge · Beta" in body
    assert re.search(r"class='clock big'>1[0-5]:\d\d", body)  # 20 minutes opened 5 minutes ago
    assert "https://cohort.example.org/submit" in body
    assert "src='data:image/svg+xml" in body  # the QR code
    assert handles(body) == ["m02"]
    assert challenges.board(c, challenge)["score"].tolist() == [pytest.approx(1.0)]


def test_the_qr_code_holds_the_join_url() -> None:
    import segno

    assert segno.make("https://cohort.example.org/submit", error="m").designator


def test_a_challenge_without_submissions_invites_them(populated: Path, monkeypatch) -> None:
    challenges.open_window(Cohort.open(populated), "02-beta", 20, "ada")
    at = app_test(populated, monkeypatch, "workshop")
    assert "No submissions yet. Submit from the Submit page!" in screen(at)


def test_a_challenge_that_just_ended_shows_its_podium(populated: Path, monkeypatch) -> None:
    c = Cohort.open(populated)
    challenges.open_window(c, "02-beta", 10, "ada", now=utcnow() - timedelta(minutes=3))
    intake.submit_bytes(c, "m05", "02-beta", perfect(populated), "p.csv", source="app")
    challenges.close_window(c, "ada")
    body = screen(app_test(populated, monkeypatch, query={"mode": "workshop"}))
    assert "Challenge results · Beta" in body
    assert re.search(r"class='p1'><div class='place'>1st</div>Member 05", body)


def test_an_old_challenge_gives_the_screen_back_to_the_week(populated: Path, monkeypatch) -> None:
    c = Cohort.open(populated)
    challenges.open_window(c, "02-beta", 10, "ada", now=utcnow() - timedelta(minutes=30))
    body = screen(app_test(populated, monkeypatch, query={"mode": "workshop"}))
    assert "<h1>Week 2 · Beta</h1>" in body


def test_the_standings_view_draws_the_cut(populated: Path, monkeypatch) -> None:
    body = screen(app_test(populated, monkeypatch, query={"mode": "workshop", "view": "standings"}))
    assert "<h1>Season standings</h1>" in body
    assert body.count("class='cut'") == 1
    assert "cut line: the top 8 go to the final" in body
    assert body.count("<tr class='selected'") == 8
    assert len(handles(body)) == 12


def test_the_standings_view_marks_a_tie_at_the_cut() -> None:
    table = [
        {"rank": i + 1, "handle": f"m{i:02d}", "name": f"Member {i:02d}", "total": 20.0 - i}
        for i in range(12)
    ]
    body = ws.warning(["m07 stays ahead of m08 in only 55% of 200 resamples of the test rows."])
    body += ws.standings_html(table, 8, {"m07", "m08"})
    assert "Statistical tie at the cut" in body and "55% of 200 resamples" in body
    tied = re.findall(r"<tr[^>]*>((?:(?!</tr>).)*⚠ tie(?:(?!</tr>).)*)</tr>", body)
    assert [handles(row) for row in tied] == [["m07"], ["m08"]]
    cut_at = body.index("class='cut'")
    assert body.index("(m07)") < cut_at < body.index("(m08)")


def test_a_new_cohort_shows_an_empty_board(tmp_path: Path, monkeypatch) -> None:
    root = write_cohort(tmp_path / "empty", members=False)
    at = app_test(root, monkeypatch, query={"mode": "workshop"})
    assert "No scored submissions yet." in screen(at)


def test_member_text_is_escaped(populated: Path, monkeypatch) -> None:
    from cohort.sheets import roster as members

    roster = populated / "members.csv"
    roster.write_text(roster.read_text().replace("Member 12", "<b>Member 12</b>"))
    members.import_roster(Cohort.open(populated).store, roster)
    body = screen(app_test(populated, monkeypatch, "workshop"))
    assert "&lt;b&gt;Member 12&lt;/b&gt;" in body
    assert "<b>Member 12</b>" not in body
