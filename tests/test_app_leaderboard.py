"""The Leaderboard page: public board before the reveal, private board and shake-up after."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort.scoring import boards
from cohort.workspace import Cohort
from tests.test_app_helpers import app_test, copy_cohort, populated_source, texts, write_cohort


@pytest.fixture
def populated(tmp_path_factory, tmp_path: Path) -> Path:
    source, _ = populated_source(tmp_path_factory)
    return copy_cohort(source, tmp_path / "cohort")


def shown_scores(at) -> list[float]:  # noqa: ANN001
    return at.dataframe[0].value["Score"].tolist()


@pytest.mark.parametrize("members", [False, True])
def test_a_new_cohort_invites_the_first_submission(
    tmp_path: Path, monkeypatch, members: bool
) -> None:
    root = write_cohort(tmp_path / "empty", members=members)
    at = app_test(root, monkeypatch)  # the leaderboard is the default page
    assert at.title[0].value == "Leaderboard"
    assert [i.value for i in at.info] == [
        "No scored submissions for this week yet. Be the first: open the Submit page."
    ]
    assert not at.dataframe


def test_the_open_week_shows_public_scores_only(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch)
    assert at.selectbox[0].value.id == "02-beta"
    assert not at.tabs
    board = boards.leaderboard(Cohort.open(populated), "02-beta")
    assert at.dataframe[0].value["Handle"].tolist() == [r.handle for r in board.rows]
    assert at.dataframe[0].value["Member"].tolist() == [r.name for r in board.rows]
    # Scores are numbers (the grid sorts and aligns them), shown with the metric's decimals.
    assert shown_scores(at) == [r.score for r in board.rows]
    assert at.dataframe[0].proto.columns and '"%.4f"' in at.dataframe[0].proto.columns
    assert at.dataframe[0].value["Entries"].tolist() == [r.entries for r in board.rows]
    assert "Private" not in at.dataframe[0].value.columns
    assert "revealed when the week closes" in texts(at)


@pytest.mark.parametrize(
    "query",
    [
        {"week": "02-beta", "private": "1"},
        {"week": "2", "revealed": "true", "board": "private"},
        {"week": "beta", "mode": "organizer"},
    ],
)
def test_query_parameters_cannot_reveal_a_hidden_board(populated: Path, monkeypatch, query) -> None:
    at = app_test(populated, monkeypatch, query=query)
    public = [r.score for r in boards.leaderboard(Cohort.open(populated), "02-beta").rows]
    assert at.selectbox[0].value.id == "02-beta"
    assert not at.tabs
    assert shown_scores(at) == public


def test_a_closed_week_shows_the_private_board_and_the_shake_up(
    populated: Path, monkeypatch
) -> None:
    at = app_test(populated, monkeypatch, query={"week": "1"})
    assert [t.label for t in at.tabs] == ["Private (final)", "Public", "Shake-up"]
    private = boards.leaderboard(Cohort.open(populated), "01-alpha", private=True)
    frame = at.dataframe[0].value
    assert frame["Handle"].tolist() == [r.handle for r in private.rows]
    assert frame["Public rank"].tolist() == [r.public_rank for r in private.rows]
    arrows = {r.handle: r.rank_change for r in private.rows}
    for handle, change in zip(frame["Handle"], frame["Change"], strict=True):
        expected = arrows[handle]
        assert change == (
            "=" if expected == 0 else f"▲ {expected}" if expected > 0 else f"▼ {-expected}"
        )
    assert len(at.get("vega_lite_chart")) == 1


def test_an_unknown_week_parameter_falls_back_with_a_warning(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, query={"week": "99"})
    assert [w.value for w in at.warning] == [
        "No week '99' in this cohort; showing the current week."
    ]
    assert at.selectbox[0].value.id == "02-beta"


def test_no_email_is_ever_shown(populated: Path, monkeypatch) -> None:
    for query in ({"week": "1"}, {"week": "2"}):
        assert "@example.org" not in texts(app_test(populated, monkeypatch, query=query))


def test_the_board_says_when_it_was_updated_and_shows_every_row(
    populated: Path, monkeypatch
) -> None:
    at = app_test(populated, monkeypatch)
    assert any(
        c.value.startswith("Updated ") and c.value.endswith("refreshes every 30 s")
        for c in at.caption
    )
    assert "Accuracy, higher is better" in texts(at)
    import cohort_ui

    # 35 px a row plus the header: no inner scroll box up to 60 rows.
    assert [cohort_ui.grid_height(n) for n in (1, 12, 60, 1000)] == [73, 458, 2138, 2138]


def test_a_phone_gets_rank_member_score_and_change(populated: Path, monkeypatch) -> None:
    at = app_test(populated, monkeypatch, query={"week": "1", "compact": "1"})
    assert at.dataframe[0].value.columns.tolist() == ["Rank", "Member", "Score", "Change"]
    assert '"pinned": true' in at.dataframe[0].proto.columns.replace(" ", "").replace(
        '"pinned":true', '"pinned": true'
    )
