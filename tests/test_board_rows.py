"""`cohort leaderboard` on the driver (scoring.board_rows) gives boards.leaderboard's board, on
random seasons with every quirk (tests/test_board_lines.py's), on the store the lane runs."""

from __future__ import annotations

from dataclasses import astuple
from datetime import timedelta
from typing import Any

import pytest

from cohort.errors import CohortError
from cohort.scoring import board_rows, boards
from tests.test_board_lines import WEEKS, _season


def _told(read: Any, *args: Any, **kw: Any) -> Any:
    """The board as plain tuples, or the error line a member sees."""
    try:
        return astuple(read(*args, **kw))
    except CohortError as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("reveal", "closed"), [(False, False), (True, False), (False, True)])
def test_the_drivers_board_is_the_stores_board(
    make_cohort, seed: int, reveal: bool, closed: bool
) -> None:
    c = _season(make_cohort, seed, reveal)
    # Closed: every board counts the files before each member's deadline (extensions).
    now = c.config.weeks[-1].closes_at + timedelta(days=1) if closed else None
    opened: list[bool] = []

    for week_id in WEEKS:
        for private in (False, True):

            def through_store(week_id: str = week_id, private: bool = private) -> Any:
                opened.append(True)
                return boards.leaderboard(c, week_id, private=private, now=now)

            want = _told(boards.leaderboard, c, week_id, private=private, now=now)
            got = _told(
                board_rows.leaderboard_at,
                c.config,
                c.store.url,
                week_id,
                private,
                through_store,
                now=now,
            )
            assert got == want, (week_id, private)
            if isinstance(want, tuple):
                assert len(want[-1]) >= 8  # the quirks leave a real board to compare
    # A hidden private board is refused by boards.leaderboard itself; the rest ran on the driver.
    hidden = not reveal and not closed
    assert len(opened) == (len(WEEKS) if hidden else 0)
    assert not hidden or "AccessDenied" in str(want)
    c.store.dispose()


def test_a_week_past_the_drivers_size_is_read_by_the_store(make_cohort, monkeypatch) -> None:
    c = _season(make_cohort, 0, True)
    week_id = next(iter(WEEKS))
    opened: list[bool] = []

    def through_store() -> Any:
        opened.append(True)
        return boards.leaderboard(c, week_id, private=False)

    files = 160  # each week of the season: 160 entries, some of them links
    monkeypatch.setattr(board_rows, "DRIVER_FILES", files)  # every week fits
    small = board_rows.leaderboard_at(c.config, c.store.url, week_id, False, through_store)
    monkeypatch.setattr(board_rows, "DRIVER_FILES", 10)
    large = board_rows.leaderboard_at(c.config, c.store.url, week_id, False, through_store)
    assert opened == [True]  # the second went to boards.leaderboard (its derived cache)
    assert astuple(large) == astuple(small)
    c.store.dispose()
