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


def test_the_drivers_lines_are_the_stores_lines_on_random_rows(any_store_url: str) -> None:
    """rawstore's board_lines (its windows taken in Python) against the store's SQL windows,
    line for line, on 150 random weeks in one store: several selections a member, selected
    files without a score, equal times, -0.0 and 0.0, infinities (and NaN, which PostgreSQL
    keeps), two overrides of one file, inactive members, extensions either side of the
    close, both directions, limits 0-3 and reveal cuts either side of the close. And the
    lines `rescored` gives from the files of another solution with these scores."""
    import math
    import random
    from datetime import UTC, datetime

    from cohort import rawstore
    from cohort.store import Store, bulk
    from cohort.store import submissions as store_subs

    rng = random.Random(15)
    close = datetime(2027, 1, 18, 12, tzinfo=UTC)
    store = Store(any_store_url)
    values = [0.0, -0.0, 0.5, 0.5, 1.0, math.inf, -math.inf, math.nan, None, None, 1e300]
    members, weeks = 9, [f"w{i:03d}" for i in range(150)]
    subs: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    extensions: list[dict[str, Any]] = []
    for week in weeks:
        times = [close + timedelta(hours=rng.choice([-3, -1, -1, 0, 2])) for _ in range(4)]
        for _ in range(rng.randint(1, 40)):
            sid = len(subs) + 1
            subs.append(
                {
                    "id": sid,
                    "member_id": rng.randint(1, members),
                    "week": week,
                    "submitted_at": rng.choice(times),
                    "source": "test",
                    "notebook_url": "",
                    "file_sha256": "" if rng.random() < 0.1 else f"f{sid}",
                    "file_name": "p.csv",
                    "status": "scored",
                    "error": "",
                    "selected": rng.random() < 0.3,
                }
            )
            if rng.random() < 0.85:
                scores.append(
                    {
                        "submission_id": sid,
                        "solution_sha256": rng.choice(["s", "s", "s", "old"]),
                        "scorer_version": "1",
                        "public_score": rng.choice(values),
                        "private_score": rng.choice(values),
                        "scored_at": close,
                    }
                )
            for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):
                overrides.append(
                    {
                        "submission_id": sid,
                        "public_score": rng.choice(values),
                        "private_score": rng.choice(values),
                        "reason": "test",
                        "created_by": "org",
                        "created_at": close,
                    }
                )
        for member in range(1, members + 1):
            if rng.random() < 0.3:
                extensions.append(
                    {
                        "member_id": member,
                        "week": week,
                        "until": close + timedelta(hours=rng.uniform(-2, 3)),
                        "reason": "",
                        "actor": "org",
                        "created_at": close,
                    }
                )
    rng.shuffle(overrides)  # the latest override is the highest id, not the last file's
    with store.transaction() as tx:
        bulk.insert_rows(
            tx,
            "members",
            [
                {
                    "id": m,
                    "handle": f"m{m}",
                    "name": f"M {m}",
                    "created_at": close,
                    "active": m % 4 != 0,
                }
                for m in range(1, members + 1)
            ],
        )
        for table, rows in (
            ("submissions", subs),
            ("scores", scores),
            ("score_overrides", overrides),
            ("extensions", extensions),
        ):
            bulk.insert_rows(tx, table, rows)

    def same(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        cells = [tuple("NaN" if isinstance(v, float) and v != v else v for v in r) for r in rows]
        return sorted(cells, key=repr)

    def kept(v: float | None) -> float | None:  # what the store holds: SQLite keeps no NaN
        return None if v is not None and v != v and any_store_url.startswith("sqlite") else v

    new_scores = {
        r["submission_id"]: (kept(r["public_score"]), kept(r["private_score"]))
        for r in scores
        if r["solution_sha256"] == "s"
    }
    raw = rawstore.open_current(any_store_url)
    assert raw is not None
    compared = counted = 0
    with raw:
        for week in weeks:
            direction, limit = rng.choice(["min", "max"]), rng.choice([0, 1, 2, 3])
            revealed = rng.choice([None, close - timedelta(hours=1), close + timedelta(hours=1)])
            with store.transaction() as tx:
                want = store_subs.board_lines(tx, week, "s", "1", close, revealed, direction, limit)
            with raw.reading() as db:
                got = db.board_lines(week, "s", "1", close, revealed, direction, limit)
            assert same(got) == same([astuple(w) for w in want]), (week, direction, limit)
            # The files read for the old solution, with the new one's scores put in (what a
            # scoring run ranks after a solution fix without reading again): the same lines.
            with raw.reading() as db:
                old = db.board_files(week, "old", "1", close, revealed)
                moved = db.window_lines(rawstore.rescored(old, new_scores), direction, limit)
            assert same(moved) == same(got), (week, direction, limit)
            compared += len(want)
            counted += sum(1 for w in want if w.counted)
    assert compared > 500 and counted > 250  # the draws leave real boards to compare (630, 398)
    store.dispose()
